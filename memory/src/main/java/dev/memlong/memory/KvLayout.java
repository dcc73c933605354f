package dev.memlong.memory;

/**
 * The shape of the memory-layer K/V a bank stores per token: {@code [kvHeads, headDim]} for keys and the same
 * for values, in {@code dtype}. A bank written for one layout can only be read by a model with the same layout.
 *
 * @param kvHeads      key/value heads of the memory layer
 * @param headDim      dimension of one head
 * @param dtype        storage encoding
 * @param embeddingDim retriever embedding dimension
 */
public record KvLayout(int kvHeads, int headDim, KvDType dtype, int embeddingDim) {

    public KvLayout {
        if (kvHeads <= 0 || headDim <= 0 || embeddingDim <= 0) {
            throw new IllegalArgumentException("kvHeads, headDim and embeddingDim must be positive");
        }
    }

    /** Bytes of keys (or of values) for {@code tokens} tokens. */
    public int kvBytes(int tokens) {
        return Math.multiplyExact(Math.multiplyExact(tokens, kvHeads * headDim), dtype.bytes());
    }
}
