package dev.memlong.memory;

import java.util.Collection;
import java.util.List;

/**
 * One conversation's long-term memory: chunks of past text with their retriever embeddings and the memory
 * layer's K/V. Plain Java types only, so the RocksDB bank in {@code storage} implements it without model code.
 *
 * <p>Sequence numbers are strictly increasing in write order and never reused by the same bank, not even after
 * {@link #clear()}. Retrieval counters change only through {@link #recordRetrieval}; {@link #topK} does not count.
 * Eviction is decided by {@link EvictionPlanner}, so every implementation evicts the same chunks.
 * {@link MemoryBankContractTest} (the memory module's test-jar) is the executable form of this contract.
 *
 * <p>Implementations are not required to be thread-safe: a bank belongs to one conversation, which is driven
 * by one actor at a time. After {@link #close()} every method that reads or changes chunks throws
 * {@link IllegalStateException}; {@link #layout()}, {@link #capacityTokens()} and {@link #evictionPolicy()} still
 * answer, and {@link #close()} does nothing.
 */
public interface MemoryBank extends AutoCloseable {

    /** The K/V layout and embedding size every chunk of this bank has. */
    KvLayout layout();

    /**
     * Appends a chunk, then, if the bank holds more than {@link #capacityTokens()} tokens, evicts as
     * {@link EvictionPlanner} plans for the bank's policy. The new chunk itself is never evicted.
     *
     * @return the new chunk's sequence number
     * @throws IllegalArgumentException if the chunk does not match {@link #layout()}
     *                                  ({@link KvLayout#requireMatches}) or has more tokens than the capacity
     */
    long append(NewChunk chunk);

    /**
     * Exact top-k by inner product between {@code query} and the stored embeddings, best first
     * ({@code min(k, chunkCount())} hits; ties broken by the newer chunk first).
     *
     * @throws IllegalArgumentException if {@code k} is negative or the query does not match the layout
     */
    List<ScoredChunk> topK(float[] query, int k);

    /**
     * The chunks with these sequence numbers, in chronological (sequence) order, each once; unknown ones are
     * skipped. The returned arrays must not be modified.
     */
    List<MemoryChunk> fetch(Collection<Long> seqs);

    /**
     * Reads ahead what a retrieval by {@code query} will {@link #fetch}: the top {@code k} chunks and the {@code
     * nextChunks} chunks stored after each, into whatever cache the bank reads through, so that the retrieval itself
     * does not wait for storage. Changes nothing a caller can see (no retrieval counter moves), so calling it or not
     * never changes a result. Banks that hold everything in RAM read nothing (the default).
     *
     * <p>Meant for another thread than the bank's user (the device thread must not wait for a disk): a bank that
     * overrides this makes it safe to call concurrently with its other methods.
     *
     * @return chunks read from storage (0 when all were cached or the bank keeps no storage)
     * @throws IllegalArgumentException if {@code k} or {@code nextChunks} is negative or the query does not match
     * @throws IllegalStateException    if the bank is closed
     */
    default int readAhead(float[] query, int k, int nextChunks) {
        if (k < 0 || nextChunks < 0) {
            throw new IllegalArgumentException("k and nextChunks must be >= 0, got " + k + ", " + nextChunks);
        }
        layout().requireQuery(query);
        return 0;
    }

    /** Adds one to the retrieval counter of each chunk (once per occurrence); unknown ones are skipped. */
    void recordRetrieval(Collection<Long> seqs);

    /** Sequence numbers of all chunks, chronological. */
    List<Long> seqs();

    /**
     * The sequence number of the chunk stored right after {@code seq}: the text that followed it. Numbers are
     * consecutive in the order chunks were appended, so by default {@code seq + 1}; a bank that numbers part of its
     * chunks otherwise (chunks staged for a commit) says where the text went on. The number need not be held
     * ({@link #fetch} skips it): the newest chunk has no successor yet, and eviction may have removed one.
     */
    default long successor(long seq) {
        return seq + 1;
    }

    int chunkCount();

    long tokenCount();

    /** Capacity in tokens; {@link #append} evicts past it. */
    long capacityTokens();

    /** The policy {@link #append} evicts by. */
    EvictionPolicy evictionPolicy();

    /** Removes every chunk. Sequence numbers keep increasing. */
    void clear();

    /** Releases the bank's resources. Idempotent. */
    @Override
    void close();
}
