package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * What every layer of one forward shares: computed once per call from the {@link ForwardBatch}.
 *
 * @param batch      the batch's bookkeeping
 * @param cache      the caches written in place
 * @param cos        rotary cos per token, {@code [B, T, 1, D]}
 * @param sin        rotary sin per token
 * @param mask       local additive mask {@code [B, 1, 1, T, S]}, or null when nothing is masked
 * @param write      where each token's K/V goes in the cache
 * @param read       the cached rows the batch attends to
 * @param memoryKeys retrieved memory keys {@code [B, KV, M, D]} (pre-RoPE, position 0), or null
 * @param memoryValues retrieved memory values, or null
 * @param memoryMask additive mask {@code [B, 1, 1, T, M + S]} for retrieval layers, or null
 */
record StepContext(ForwardBatch batch, KvCachePool cache, NDArray cos, NDArray sin, NDArray mask, NDIndex write,
                   NDIndex read, NDArray memoryKeys, NDArray memoryValues, NDArray memoryMask) {

    boolean hasMemory() {
        return memoryKeys != null;
    }
}
