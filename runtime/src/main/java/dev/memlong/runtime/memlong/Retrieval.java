package dev.memlong.runtime.memlong;

import java.util.List;

/**
 * One retrieval: the query text and the chunks chosen for it, chronological.
 *
 * @param windowPosition the cache length when it ran (0-based row of the first token it served)
 * @param query          the query text
 * @param chunks         the retrieved chunks (sequence number, score, text), in chronological order
 */
public record Retrieval(int windowPosition, String query, List<RetrievedChunk> chunks) {

    /** A retrieved chunk. */
    public record RetrievedChunk(long seq, float score, String text) {}

    public int tokens(int chunkSize) {
        return chunks.size() * chunkSize;
    }
}
