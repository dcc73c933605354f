package dev.memlong.runtime.model;

/**
 * New tokens for one sequence in a batched forward: they are appended to the sequence's KV cache slot and
 * attend to everything already cached there.
 *
 * @param slot   the sequence's slot in the {@link KvCachePool}
 * @param tokens the new token ids (at least one)
 */
public record SequenceStep(int slot, int[] tokens) {

    public SequenceStep {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("a sequence step needs at least one token");
        }
    }
}
