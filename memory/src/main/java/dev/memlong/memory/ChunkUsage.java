package dev.memlong.memory;

/**
 * What eviction needs to know about one stored chunk.
 *
 * @param seq            the chunk's sequence number
 * @param tokens         its token count
 * @param retrievalCount how often retrieval has chosen it
 */
public record ChunkUsage(long seq, int tokens, long retrievalCount) {

    public ChunkUsage {
        if (tokens <= 0 || retrievalCount < 0) {
            throw new IllegalArgumentException("chunk " + seq + ": tokens must be positive and the retrieval count "
                    + "non-negative, got " + tokens + " and " + retrievalCount);
        }
    }
}
