package dev.memlong.memory;

/**
 * A chunk about to be written to a memory bank.
 *
 * @param tokenIds  the chunk's token ids
 * @param text      its decoded text (special tokens skipped)
 * @param embedding the retriever's L2-normalised embedding of {@code text}
 * @param keys      memory-layer pre-RoPE keys, {@code [tokens, kvHeads, headDim]} in the bank's {@link KvDType}
 * @param values    memory-layer values, same shape and encoding
 */
public record NewChunk(int[] tokenIds, String text, float[] embedding, byte[] keys, byte[] values) {}
