package dev.memlong.runtime.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token of one sequence from its logits. Works on a copy of the logits in Java: one row of the
 * vocabulary per step is small next to a forward pass, and keeps sampling exact and seedable.
 *
 * <p>Infinite logits have a defined meaning: {@code -Infinity} is a token that can never be chosen (a mask), and
 * {@code +Infinity} a certain choice: greedy takes the lowest such id, sampling draws uniformly among them (after
 * top-k and top-p). A NaN logit, or a row where every logit is {@code -Infinity}, is refused with an
 * {@link InvalidLogitsException}: no token follows from it, and any pick would hide a broken forward pass.
 */
public final class Sampler {

    private final SamplingParams params;
    private final SplittableRandom random;
    private final boolean[] seen;

    /**
     * @param vocabSize size of the logits rows
     * @param context   token ids already in the sequence (for the repetition penalty)
     */
    public Sampler(SamplingParams params, int vocabSize, int[] context) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
        this.seen = new boolean[vocabSize];
        for (int id : context) {
            accept(id);
        }
    }

    /** Records a token as part of the sequence, for the repetition penalty. */
    public void accept(int token) {
        if (token >= 0 && token < seen.length) {
            seen[token] = true;
        }
    }

    /** Chooses the next token; the logits array is not modified. */
    public int next(float[] logits) {
        if (params.isGreedy() && params.repetitionPenalty() == 1) {
            return argmax(logits); // nothing to rewrite: no copy of the row (a step of 64 sequences copied 8 MB)
        }
        float[] l = logits.clone();
        if (params.repetitionPenalty() != 1) {
            float p = (float) params.repetitionPenalty();
            for (int i = 0; i < l.length; i++) {
                if (seen[i]) {
                    l[i] = l[i] < 0 ? l[i] * p : l[i] / p;
                }
            }
        }
        if (params.isGreedy()) {
            return argmax(l);
        }
        double t = params.temperature();
        int best = argmax(l);
        if (l[best] == Float.POSITIVE_INFINITY) {
            // +Inf tokens share all the probability: as logits 0 against -Inf for every other token, which the
            // arithmetic below handles (Inf - Inf would be NaN)
            for (int i = 0; i < l.length; i++) {
                l[i] = l[i] == Float.POSITIVE_INFINITY ? 0f : Float.NEGATIVE_INFINITY;
            }
        }
        double max = l[best] / t; // finite: argmax refused NaN and all -Inf
        // Only tokens within e^-40 of the best can ever be drawn in double precision; sorting just those keeps
        // a step cheap with a large vocabulary. The best itself is always one (0 > -40), so n >= 1.
        int n = 0;
        int[] candidates = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (l[i] / t - max > -40) {
                candidates[n++] = i;
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = candidates[i];
        }
        Arrays.sort(order, (a, b) -> a.equals(b) ? 0 : l[a] != l[b] ? Float.compare(l[b], l[a]) : Integer.compare(a, b));
        int keep = params.topK() > 0 ? Math.min(params.topK(), n) : n;
        double[] prob = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            prob[i] = Math.exp(l[order[i]] / t - max);
            sum += prob[i];
        }
        if (params.topP() < 1) {
            double cumulative = 0;
            int cut = keep;
            for (int i = 0; i < keep; i++) {
                cumulative += prob[i] / sum;
                if (cumulative >= params.topP()) {
                    cut = i + 1;
                    break;
                }
            }
            keep = cut;
            sum = 0;
            for (int i = 0; i < keep; i++) {
                sum += prob[i];
            }
        }
        double r = random.nextDouble() * sum;
        for (int i = 0; i < keep; i++) {
            r -= prob[i];
            if (r < 0) {
                return order[i];
            }
        }
        return order[keep - 1];
    }

    /**
     * The index of the largest value, the lowest one on ties.
     *
     * @throws InvalidLogitsException if a value is NaN, or every value is {@code -Infinity} (or there are none)
     */
    static int argmax(float[] v) {
        int best = -1;
        for (int i = 0; i < v.length; i++) {
            if (Float.isNaN(v[i])) {
                throw new InvalidLogitsException("logit of token " + i + " is NaN: the forward pass produced"
                        + " non-numbers, so no token can be chosen");
            }
            if (v[i] != Float.NEGATIVE_INFINITY && (best < 0 || v[i] > v[best])) {
                best = i;
            }
        }
        if (best < 0) {
            throw new InvalidLogitsException("all " + v.length + " logits are -Infinity: every token is masked");
        }
        return best;
    }
}
