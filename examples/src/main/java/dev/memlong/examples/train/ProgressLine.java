package dev.memlong.examples.train;

import java.io.PrintStream;
import java.util.Locale;

/** A live one-line training progress report on a terminal: step, loss, tokens per second, learning rate, ETA. */
public final class ProgressLine {

    private final PrintStream out;
    private final int totalSteps;
    private final long started = System.nanoTime();
    private final int firstStep;
    private long tokens;
    private double smoothed = Double.NaN;

    public ProgressLine(PrintStream out, int firstStep, int totalSteps) {
        this.out = out;
        this.firstStep = firstStep;
        this.totalSteps = totalSteps;
    }

    /** Reports a finished step (0-based). */
    public void update(int step, double loss, double lr, long stepTokens) {
        tokens += stepTokens;
        smoothed = Double.isNaN(smoothed) ? loss : 0.9 * smoothed + 0.1 * loss;
        double seconds = (System.nanoTime() - started) / 1e9;
        int done = step + 1 - firstStep;
        double eta = done == 0 ? 0 : seconds / done * (totalSteps - step - 1);
        out.print(String.format(Locale.ROOT, "\rstep %d/%d  loss %.4f (avg %.4f)  %.0f tok/s  lr %.2e  ETA %s   ",
                step + 1, totalSteps, loss, smoothed, tokens / Math.max(seconds, 1e-9), lr, duration(eta)));
        out.flush();
    }

    public void finish() {
        out.println();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
    }
}
