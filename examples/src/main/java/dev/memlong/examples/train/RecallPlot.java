package dev.memlong.examples.train;

import java.io.IOException;
import java.nio.file.Path;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** Recall accuracy by distance, with memory and with the window only, as a PNG (JFreeChart, headless). */
public final class RecallPlot {

    private RecallPlot() {}

    public static void write(Path png, RecallCheck.Result r, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeries memory = new XYSeries("with memory");
        XYSeries window = new XYSeries("window only");
        XYSeries retrieval = new XYSeries("fact's chunk retrieved");
        for (RecallCheck.DistanceResult d : r.distances()) {
            memory.add(d.distance(), 100 * d.accuracyMemory());
            window.add(d.distance(), 100 * d.accuracyWindowOnly());
            retrieval.add(d.distance(), 100 * d.retrievalHitRate());
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(memory);
        data.addSeries(window);
        data.addSeries(retrieval);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "tokens between the fact and the question",
                "answers with the right value (%)", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        LogAxis x = new LogAxis("tokens between the fact and the question (log scale)");
        x.setBase(2);
        plot.setDomainAxis(x);
        ((NumberAxis) plot.getRangeAxis()).setRange(0, 105);
        plot.setRenderer(new XYLineAndShapeRenderer(true, true));
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 500);
    }
}
