package dev.memlong.memory;

import java.util.Collection;
import java.util.List;

/**
 * One conversation's long-term memory: chunks of past text with their retriever embeddings and the memory
 * layer's K/V. Plain Java types only, so the RocksDB bank in {@code storage} implements it without model code.
 *
 * <p>Implementations are not required to be thread-safe: a bank belongs to one conversation, which is driven
 * by one actor at a time.
 */
public interface MemoryBank extends AutoCloseable {

    /** The K/V layout and embedding size every chunk of this bank has. */
    KvLayout layout();

    /**
     * Appends a chunk, then evicts by the bank's policy if its capacity is exceeded.
     *
     * @return the new chunk's sequence number
     * @throws IllegalArgumentException if the chunk's K/V or embedding do not match {@link #layout()}
     */
    long append(NewChunk chunk);

    /**
     * Exact top-k by inner product between {@code query} and the stored embeddings, best first
     * ({@code min(k, chunkCount())} hits; ties broken by the newer chunk first).
     */
    List<ScoredChunk> topK(float[] query, int k);

    /** The chunks with these sequence numbers, in chronological (sequence) order; unknown ones are skipped. */
    List<MemoryChunk> fetch(Collection<Long> seqs);

    /** Adds one to the retrieval counter of each chunk. */
    void recordRetrieval(Collection<Long> seqs);

    /** Sequence numbers of all chunks, chronological. */
    List<Long> seqs();

    int chunkCount();

    long tokenCount();

    /** Capacity in tokens; {@link #append} evicts past it. */
    long capacityTokens();

    /** Removes every chunk. */
    void clear();

    @Override
    void close();
}
