package dev.memlong.memory;

/**
 * A chunk as stored in a bank.
 *
 * @param seq            the chunk's sequence number in its conversation: strictly increasing in write order, so
 *                       ordering by {@code seq} is chronological order
 * @param tokenIds       token ids
 * @param text           decoded text
 * @param embedding      retriever embedding
 * @param keys           memory-layer keys, {@code [tokens, kvHeads, headDim]}
 * @param values         memory-layer values, same shape
 * @param retrievalCount how many times retrieval has chosen this chunk
 */
public record MemoryChunk(long seq, int[] tokenIds, String text, float[] embedding, byte[] keys, byte[] values,
                          long retrievalCount) {

    public int tokens() {
        return tokenIds.length;
    }
}
