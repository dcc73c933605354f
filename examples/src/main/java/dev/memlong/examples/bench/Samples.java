package dev.memlong.examples.bench;

import java.util.Arrays;

/** Medians, percentiles and extremes of repeated timings. */
public final class Samples {

    private Samples() {}

    public static double median(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * The nearest-rank percentile: the smallest sample with at least {@code p} percent of the samples at or below it
     * ({@code sorted[ceil(p / 100 * n) - 1]}); p0 is the minimum. Always one of the samples, never interpolated,
     * so a p99 over 256 decode steps is the third-slowest step: a step that happens less than once in 100 (a
     * MemLong retrieval step, one in a 128-token chunk) never shows in it and needs figures of its own.
     */
    static double percentile(double[] values, double p) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        if (!(p >= 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + p);
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100 * s.length);
        return s[Math.max(0, rank - 1)];
    }

    static double mean(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        return Arrays.stream(values).sum() / values.length;
    }

    public static double max(double[] values) {
        return Arrays.stream(values).max().orElseThrow();
    }
}
