package dev.memlong.examples.bench.batching;

import java.util.Arrays;
import java.util.List;

/**
 * One concurrency's figures.
 *
 * @param tokS      tokens that arrived while every conversation was decoding, per second of that window
 * @param itlP50Ms  median gap between a conversation's consecutive tokens, both in the window
 * @param itlP99Ms  99th percentile of those gaps
 * @param samples   gaps measured
 * @param meanContextTokens mean context of the forwards that produced the counted tokens ({@link #meanContext}):
 *                  the model-alone baseline is measured at it
 */
public record TierFigures(int concurrency, int tokensPerConversation, double tokS, double itlP50Ms, double itlP99Ms,
                          int samples, double meanContextTokens) {

    /**
     * Figures of the tokens that arrived in {@code (from, to]}; {@code promptTokens} is what each conversation's
     * context held before its first token.
     */
    static TierFigures of(int concurrency, int tokens, List<long[]> times, long from, long to, int promptTokens) {
        int count = 0;
        for (long[] t : times) {
            for (long x : t) {
                count += x > from && x <= to ? 1 : 0;
            }
        }
        // Gaps that began before `from` span the last admission's prompt forward: they belong to the ramp-up (the
        // long-prompt part measures what a prompt does to running conversations), not to every conversation decoding.
        long[] gaps = gapsBetween(times, from, to);
        double tokS = to > from ? count / ((to - from) / 1e9) : Double.NaN;
        return new TierFigures(concurrency, tokens, tokS, percentileMs(gaps, 0.5), percentileMs(gaps, 0.99),
                gaps.length, meanContext(times, from, to, promptTokens));
    }

    /**
     * Mean context, over the tokens that arrived in {@code (from, to]}, of the forward that produced each: the prompt
     * plus the tokens the conversation had before it. Conversations are admitted a few per step, so the first ones
     * have decoded many tokens by the time the last one starts: the window's context is more than the prompt plus
     * half the window's tokens.
     */
    static double meanContext(List<long[]> times, long from, long to, int promptTokens) {
        long sum = 0;
        int n = 0;
        for (long[] t : times) {
            for (int j = 0; j < t.length; j++) {
                if (t[j] > from && t[j] <= to) {
                    sum += promptTokens + j;
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : sum / (double) n;
    }

    /** Gaps between consecutive tokens of each conversation that began at or after {@code from} and ended by {@code to}. */
    static long[] gapsBetween(List<long[]> times, long from, long to) {
        return gaps(times, from, to, true);
    }

    /** Gaps between consecutive tokens of each conversation whose later token arrived in {@code (from, to]}. */
    static long[] gapsWithin(List<?> clocksOrTimes, long from, long to) {
        return gaps(clocksOrTimes, from, to, false);
    }

    private static long[] gaps(List<?> clocksOrTimes, long from, long to, boolean beganInWindow) {
        long[] gaps = new long[0];
        int n = 0;
        for (Object o : clocksOrTimes) {
            long[] t = o instanceof TokenClock c ? c.times() : (long[]) o;
            for (int i = 1; i < t.length; i++) {
                boolean in = t[i] <= to && (beganInWindow ? t[i - 1] >= from : t[i] > from);
                if (in) {
                    if (n == gaps.length) {
                        gaps = Arrays.copyOf(gaps, Math.max(16, n * 2));
                    }
                    gaps[n++] = t[i] - t[i - 1];
                }
            }
        }
        return Arrays.copyOf(gaps, n);
    }

    /** Nearest-rank percentile, in milliseconds. */
    static double percentileMs(long[] nanos, double p) {
        if (nanos.length == 0) {
            return Double.NaN;
        }
        long[] s = nanos.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, rank))] / 1e6;
    }
}
