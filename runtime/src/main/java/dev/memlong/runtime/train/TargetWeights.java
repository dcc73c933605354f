package dev.memlong.runtime.train;

import java.util.BitSet;

/**
 * Per-token weights of the training loss: a target whose token id is in {@code tokens} weighs {@code weight}, every
 * other target 1 (targets without a next token weigh 0). The loss of a step is the weighted mean,
 * {@code Σ w·ℓ / Σ w}, so a weight of 1 everywhere is the usual mean cross-entropy.
 *
 * <p>Why: in a dialogue the tokens that only memory can predict (the value in "your boss's car is kia." asked long
 * after it was said) are a few percent of the tokens, while small talk, whose words are random draws, dominates the
 * mean loss and its gradient. Weighing the value tokens more makes reading memory a larger share of what a step
 * learns ({@code memlong train-demo --value-weight}).
 */
public record TargetWeights(BitSet tokens, double weight) {

    /** Every target weighs 1. */
    public static final TargetWeights NONE = new TargetWeights(new BitSet(), 1);

    public TargetWeights {
        if (tokens == null) {
            throw new IllegalArgumentException("the weighted tokens are required (an empty set for none)");
        }
        if (!(weight > 0) || !Double.isFinite(weight)) {
            throw new IllegalArgumentException("a target weight must be finite and > 0, got " + weight);
        }
        tokens = (BitSet) tokens.clone(); // the record must not change under a caller who keeps the set
    }

    /** {@code weight} on the given token ids. */
    public static TargetWeights of(double weight, int... tokenIds) {
        BitSet set = new BitSet();
        for (int id : tokenIds) {
            if (id < 0) {
                throw new IllegalArgumentException("token ids are >= 0, got " + id);
            }
            set.set(id);
        }
        return new TargetWeights(set, weight);
    }

    /** The weight of one target ({@code < 0}: no target, weight 0). */
    public float of(long target) {
        if (target < 0) {
            return 0f;
        }
        return target < Integer.MAX_VALUE && tokens.get((int) target) ? (float) weight : 1f;
    }

    /** The summed weight of {@code targets}. */
    public double sum(long[] targets) {
        double s = 0;
        for (long t : targets) {
            s += of(t);
        }
        return s;
    }
}
