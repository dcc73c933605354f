package dev.memlong.runtime.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Sampling against distributions computed directly from the logits. */
class SamplerTest {

    private static final int DRAWS = 40_000;

    private static double[] frequencies(SamplingParams p, float[] logits) {
        Sampler s = new Sampler(p, logits.length, new int[0]);
        double[] f = new double[logits.length];
        for (int i = 0; i < DRAWS; i++) {
            f[s.next(logits)] += 1.0 / DRAWS;
        }
        return f;
    }

    private static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    @Test
    void greedyIsArgmax() {
        Sampler s = new Sampler(SamplingParams.greedy(1), 5, new int[0]);
        assertEquals(3, s.next(new float[] {0.1f, -2f, 1.5f, 1.6f, 1.59f}));
    }

    @Test
    void temperatureOneSamplesTheSoftmax() {
        double[] p = {0.5, 0.3, 0.15, 0.05};
        double[] f = frequencies(SamplingParams.sample(1, 1.0, 1.0, 42), logitsOf(p));
        for (int i = 0; i < p.length; i++) {
            assertEquals(p[i], f[i], 0.01, "token " + i);
        }
    }

    @Test
    void temperatureSharpensAsPowersOfTheProbabilities() {
        double[] p = {0.5, 0.3, 0.15, 0.05};
        double t = 0.5;
        double[] expected = new double[p.length];
        double z = 0;
        for (int i = 0; i < p.length; i++) {
            expected[i] = Math.pow(p[i], 1 / t);
            z += expected[i];
        }
        double[] f = frequencies(SamplingParams.sample(1, t, 1.0, 7), logitsOf(p));
        for (int i = 0; i < p.length; i++) {
            assertEquals(expected[i] / z, f[i], 0.01, "token " + i);
        }
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // 0.5 + 0.3 = 0.8 >= 0.7: tokens 0 and 1 only, renormalised to 0.625 / 0.375
        double[] f = frequencies(SamplingParams.sample(1, 1.0, 0.7, 3), logitsOf(0.5, 0.3, 0.15, 0.05));
        assertEquals(0.625, f[0], 0.01);
        assertEquals(0.375, f[1], 0.01);
        assertEquals(0, f[2] + f[3]);
    }

    @Test
    void topKKeepsTheKMostLikely() {
        SamplingParams p = SamplingParams.sample(1, 1.0, 1.0, 5).withTopK(2);
        double[] f = frequencies(p, logitsOf(0.15, 0.5, 0.05, 0.3));
        assertEquals(0.5 / 0.8, f[1], 0.01);
        assertEquals(0.3 / 0.8, f[3], 0.01);
        assertEquals(0, f[0] + f[2]);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogitsOfSeenTokens() {
        // transformers' RepetitionPenaltyLogitsProcessor: seen logit 2.0 -> 2.0/2 = 1.0; seen -0.5 -> -1.0
        float[] logits = {2.0f, 1.5f, -0.5f, -0.6f};
        SamplingParams p = SamplingParams.greedy(1).withRepetitionPenalty(2.0);
        assertEquals(1, new Sampler(p, 4, new int[] {0}).next(logits));
        assertEquals(0, new Sampler(SamplingParams.greedy(1), 4, new int[] {0}).next(logits));
        // a seen negative logit is multiplied: -0.5 * 2 = -1.0 falls below the unseen -0.6
        float[] negatives = {-0.5f, -0.6f};
        assertEquals(0, new Sampler(SamplingParams.greedy(1), 2, new int[] {0}).next(negatives));
        assertEquals(1, new Sampler(p, 2, new int[] {0}).next(negatives));
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        float[] l = logitsOf(0.2, 0.2, 0.2, 0.2, 0.2);
        int[] a = draw(SamplingParams.sample(1, 1.0, 1.0, 9), l);
        int[] b = draw(SamplingParams.sample(1, 1.0, 1.0, 9), l);
        int[] c = draw(SamplingParams.sample(1, 1.0, 1.0, 10), l);
        org.junit.jupiter.api.Assertions.assertArrayEquals(a, b);
        assertTrue(!java.util.Arrays.equals(a, c));
    }

    private static int[] draw(SamplingParams p, float[] l) {
        Sampler s = new Sampler(p, l.length, new int[0]);
        int[] out = new int[64];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.next(l);
        }
        return out;
    }

    @Test
    void invalidParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.sample(1, -1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.sample(1, 1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.sample(1, 1, 1.5, 0));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy(-1));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy(1).withRepetitionPenalty(0));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.greedy(1).withStopStrings(List.of("")));
    }

    private static final float INF = Float.POSITIVE_INFINITY;
    private static final float NAN = Float.NaN;

    /** Greedy, greedy with a repetition penalty, plain sampling, and sampling with top-k and top-p. */
    private static List<SamplingParams> everyMode() {
        return List.of(SamplingParams.greedy(1), SamplingParams.greedy(1).withRepetitionPenalty(1.3),
                SamplingParams.sample(1, 0.7, 1.0, 11), SamplingParams.sample(1, 1.0, 0.9, 12).withTopK(2));
    }

    @Test
    void aPositiveInfiniteLogitIsTheCertainChoice() {
        for (SamplingParams p : everyMode()) {
            Sampler s = new Sampler(p, 4, new int[] {2});
            for (int i = 0; i < 200; i++) {
                assertEquals(2, s.next(new float[] {1f, 3f, INF, -INF}), p.toString());
            }
        }
    }

    @Test
    void severalPositiveInfiniteLogitsShareTheProbability() {
        float[] l = {INF, 5f, INF, INF};
        assertEquals(0, new Sampler(SamplingParams.greedy(1), 4, new int[0]).next(l));
        double[] f = frequencies(SamplingParams.sample(1, 1.0, 1.0, 8), l);
        for (int i : new int[] {0, 2, 3}) {
            assertEquals(1.0 / 3, f[i], 0.01, "token " + i);
        }
        assertEquals(0, f[1]);
        // top-k 2 keeps the two lowest ids among the tied +Inf tokens
        double[] k = frequencies(SamplingParams.sample(1, 1.0, 1.0, 8).withTopK(2), l);
        assertEquals(0.5, k[0], 0.01);
        assertEquals(0.5, k[2], 0.01);
    }

    @Test
    void negativeInfiniteLogitsAreNeverChosen() {
        float[] l = {-INF, -INF, 0f, -INF};
        for (SamplingParams p : everyMode()) {
            assertEquals(2, new Sampler(p, 4, new int[0]).next(l), p.toString());
        }
    }

    @Test
    void nanOrAllMaskedLogitsAreRefusedClearly() {
        for (SamplingParams p : everyMode()) {
            InvalidLogitsException e = assertThrows(InvalidLogitsException.class,
                    () -> new Sampler(p, 4, new int[0]).next(new float[] {1f, NAN, 2f, 0f}), p.toString());
            assertTrue(e.getMessage().contains("token 1") && e.getMessage().contains("NaN"), e.getMessage());
            assertThrows(InvalidLogitsException.class,
                    () -> new Sampler(p, 2, new int[0]).next(new float[] {NAN, INF}), p.toString());
            e = assertThrows(InvalidLogitsException.class,
                    () -> new Sampler(p, 3, new int[0]).next(new float[] {-INF, -INF, -INF}), p.toString());
            assertTrue(e.getMessage().contains("-Infinity"), e.getMessage());
        }
    }
}
