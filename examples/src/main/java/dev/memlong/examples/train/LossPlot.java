package dev.memlong.examples.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The loss curve of a training run as a PNG (JFreeChart, headless). */
public final class LossPlot {

    private LossPlot() {}

    /** Plots the per-step loss and its moving average over {@code window} steps. */
    public static void write(Path png, List<Double> losses, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeries raw = new XYSeries("loss");
        XYSeries smooth = new XYSeries("moving average");
        int window = Math.max(1, losses.size() / 50);
        double sum = 0;
        for (int i = 0; i < losses.size(); i++) {
            raw.add(i + 1, losses.get(i));
            sum += losses.get(i);
            if (i >= window) {
                sum -= losses.get(i - window);
            }
            smooth.add(i + 1, sum / Math.min(i + 1, window));
        }
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(raw);
        data.addSeries(smooth);
        JFreeChart chart = ChartFactory.createXYLineChart(title, "optimizer step", "cross-entropy (nats/token)", data,
                PlotOrientation.VERTICAL, true, false, false);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 500);
    }
}
