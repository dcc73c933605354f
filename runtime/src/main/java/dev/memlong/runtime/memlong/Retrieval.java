package dev.memlong.runtime.memlong;

import java.util.List;

/**
 * One retrieval: the query text and the chunks chosen for it, chronological, and what each phase cost.
 *
 * @param windowPosition the cache length when it ran (0-based row of the first token it served)
 * @param query          the query text
 * @param chunks         the retrieved chunks (sequence number, score, text), in chronological order
 * @param timings        wall time of each phase of this retrieval
 */
public record Retrieval(int windowPosition, String query, List<RetrievedChunk> chunks, Timings timings) {

    /** A retrieved chunk. */
    public record RetrievedChunk(long seq, float score, String text) {}

    /**
     * Nanoseconds spent in each phase of one retrieval.
     *
     * @param embedNanos  decoding the query tokens to text and embedding it with the retriever
     * @param searchNanos exact top-k over the bank's embeddings
     * @param gatherNanos fetching the chosen chunks and decoding their stored K/V to float32
     * @param uploadNanos handing the K/V to the model (native copy and layout for the retrieval layers)
     */
    public record Timings(long embedNanos, long searchNanos, long gatherNanos, long uploadNanos) {

        public long totalNanos() {
            return embedNanos + searchNanos + gatherNanos + uploadNanos;
        }
    }

    public int tokens(int chunkSize) {
        return chunks.size() * chunkSize;
    }
}
