package dev.memlong.runtime.model;

import java.util.List;

/**
 * Forwards outside the tensor path, one row per new token (decode steps, and prefill pieces of up to
 * {@link #MAX_ROWS} tokens in all): implemented by {@code VectorDecoder} ({@code src/main/java22}), which
 * {@link JavaDecode} loads where the JDK allows.
 */
interface StepDecoder extends AutoCloseable {

    /**
     * Rows (new tokens, over every sequence) a forward may have to take this path: activations are kept per row, and
     * a longer prompt is cheap enough per token on the tensor path's large matrix products.
     */
    int MAX_ROWS = 512;

    /**
     * One forward: every sequence of {@code batch} appends its new tokens to its cache slot.
     *
     * @param memories     per sequence its retrieved memory, or null (entries or list)
     * @param allPositions logits at every new token, or at each sequence's last one only
     * @return the logits, {@code [sequence][position][vocab]}
     */
    float[][][] forward(ForwardBatch batch, KvCachePool cache, RotaryTable rotary, List<MemoryKv> memories,
                        boolean allPositions);

    /**
     * Returns the memory layer's pre-RoPE keys and values of slot {@code slot}'s oldest {@code tokens} tokens
     * (token-major), then moves its cached tokens {@code [tokens, length)} to {@code [0, length - tokens)} in every
     * layer, keys rotated back by {@code tokens} positions (values and the memory layer's pre-RoPE keys as they are),
     * exactly as {@link LlamaModel#shiftWindow}'s tensor path computes both; the cache's length is left to the caller.
     * Needs a MemLong cache.
     */
    EvictedWindow shiftWindow(KvCachePool cache, int slot, int tokens, RotaryTable rotary);

    /** The output projection of {@code rows} final-normed hidden states (row-major): {@code [rows * vocab]}. */
    float[] logits(float[] normed, int rows);

    /** Frees what the decoder owns (copies of weights); the model's own arrays stay. */
    @Override
    void close();
}
