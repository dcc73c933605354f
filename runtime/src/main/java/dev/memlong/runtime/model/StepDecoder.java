package dev.memlong.runtime.model;

import java.util.List;

/**
 * Decode steps (one new token per sequence) outside the tensor path: implemented by {@code VectorDecoder}
 * ({@code src/main/java22}), which {@link JavaDecode} loads where the JDK allows.
 */
interface StepDecoder extends AutoCloseable {

    /**
     * One decode step: every sequence of {@code batch} appends one token to its cache slot.
     *
     * @param memories per sequence its retrieved memory, or null (entries or list)
     * @return the logits of each sequence's token, {@code [sequence][1][vocab]}
     */
    float[][][] forward(ForwardBatch batch, KvCachePool cache, RotaryTable rotary, List<MemoryKv> memories);

    /** The output projection of {@code rows} final-normed hidden states (row-major): {@code [rows * vocab]}. */
    float[] logits(float[] normed, int rows);

    /** Frees what the decoder owns (copies of weights); the model's own arrays stay. */
    @Override
    void close();
}
