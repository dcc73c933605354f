package dev.memlong.memory;

import java.util.Objects;

/**
 * A chunk about to be written to a memory bank. The bank copies what it keeps; callers may reuse the arrays.
 *
 * @param tokenIds  the chunk's token ids, at least one
 * @param text      its decoded text (special tokens skipped)
 * @param embedding the retriever's embedding of {@code text} (compared with queries by inner product)
 * @param keys      memory-layer pre-RoPE keys, {@code [tokens, kvHeads, headDim]} in the bank's {@link KvDType}
 * @param values    memory-layer values, same shape and encoding
 */
public record NewChunk(int[] tokenIds, String text, float[] embedding, byte[] keys, byte[] values) {

    public NewChunk {
        Objects.requireNonNull(tokenIds, "tokenIds");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(embedding, "embedding");
        Objects.requireNonNull(keys, "keys");
        Objects.requireNonNull(values, "values");
        if (tokenIds.length == 0) {
            throw new IllegalArgumentException("a chunk needs at least one token");
        }
    }

    public int tokens() {
        return tokenIds.length;
    }
}
