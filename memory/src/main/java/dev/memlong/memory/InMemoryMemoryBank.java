package dev.memlong.memory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A {@link MemoryBank} on the heap: embeddings in one {@link EmbeddingMatrix} for exact search, each chunk's
 * tokens, text and K/V bytes beside it. Chunks are kept in sequence order, so lookups by sequence number are
 * binary searches. Not thread-safe.
 */
public final class InMemoryMemoryBank implements MemoryBank {

    /** One chunk's payload; row {@code i} of {@link #embeddings} belongs to {@code chunks.get(i)}. */
    private static final class Entry {
        final long seq;
        final int[] tokenIds;
        final String text;
        final byte[] keys;
        final byte[] values;
        long retrievalCount;

        Entry(long seq, NewChunk c) {
            this.seq = seq;
            this.tokenIds = c.tokenIds().clone();
            this.text = c.text();
            this.keys = c.keys().clone();
            this.values = c.values().clone();
        }
    }

    private final KvLayout layout;
    private final long capacityTokens;
    private final EvictionPlanner planner;
    private final EmbeddingMatrix embeddings;
    private final List<Entry> chunks = new ArrayList<>();
    private long nextSeq;
    private long tokenCount;
    private boolean closed;

    /**
     * @param layout         the K/V layout and embedding size of every chunk
     * @param capacityTokens tokens kept before {@link #append} evicts
     * @param policy         what eviction removes
     */
    public InMemoryMemoryBank(KvLayout layout, long capacityTokens, EvictionPolicy policy) {
        this.layout = Objects.requireNonNull(layout, "layout");
        if (capacityTokens <= 0) {
            throw new IllegalArgumentException("capacityTokens must be positive, got " + capacityTokens);
        }
        this.capacityTokens = capacityTokens;
        this.planner = new EvictionPlanner(policy);
        this.embeddings = new EmbeddingMatrix(layout.embeddingDim());
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    @Override
    public long append(NewChunk chunk) {
        open();
        layout.requireMatches(chunk);
        if (chunk.tokens() > capacityTokens) {
            throw new IllegalArgumentException("a chunk of " + chunk.tokens() + " tokens does not fit in a bank of "
                    + capacityTokens + " tokens");
        }
        long seq = nextSeq++;
        chunks.add(new Entry(seq, chunk));
        embeddings.add(chunk.embedding());
        tokenCount += chunk.tokens();
        if (tokenCount > capacityTokens) {
            evict(planner.plan(usage(), capacityTokens));
        }
        return seq;
    }

    @Override
    public List<ScoredChunk> topK(float[] query, int k) {
        open();
        layout.requireQuery(query);
        TopKHeap heap = new TopKHeap(k);
        for (int r = 0; r < chunks.size(); r++) {
            heap.offer(chunks.get(r).seq, embeddings.dot(r, query));
        }
        return heap.best();
    }

    @Override
    public List<MemoryChunk> fetch(Collection<Long> seqs) {
        open();
        List<MemoryChunk> out = new ArrayList<>(seqs.size());
        for (long seq : new TreeSet<>(seqs)) {
            int r = indexOf(seq);
            if (r >= 0) {
                Entry e = chunks.get(r);
                out.add(new MemoryChunk(e.seq, e.tokenIds, e.text, embeddings.row(r), e.keys, e.values,
                        e.retrievalCount));
            }
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public void recordRetrieval(Collection<Long> seqs) {
        open();
        for (long seq : seqs) {
            int r = indexOf(seq);
            if (r >= 0) {
                chunks.get(r).retrievalCount++;
            }
        }
    }

    @Override
    public List<Long> seqs() {
        open();
        List<Long> out = new ArrayList<>(chunks.size());
        for (Entry e : chunks) {
            out.add(e.seq);
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public int chunkCount() {
        open();
        return chunks.size();
    }

    @Override
    public long tokenCount() {
        open();
        return tokenCount;
    }

    @Override
    public long capacityTokens() {
        return capacityTokens;
    }

    @Override
    public EvictionPolicy evictionPolicy() {
        return planner.policy();
    }

    @Override
    public void clear() {
        open();
        chunks.clear();
        embeddings.clear();
        tokenCount = 0;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            chunks.clear();
            embeddings.clear();
        }
    }

    private List<ChunkUsage> usage() {
        List<ChunkUsage> out = new ArrayList<>(chunks.size());
        for (Entry e : chunks) {
            out.add(new ChunkUsage(e.seq, e.tokenIds.length, e.retrievalCount));
        }
        return out;
    }

    private void evict(List<Long> seqs) {
        boolean[] remove = new boolean[chunks.size()];
        for (long seq : seqs) {
            int r = indexOf(seq);
            remove[r] = true;
            tokenCount -= chunks.get(r).tokenIds.length;
        }
        embeddings.removeRows(remove);
        int out = 0;
        for (int r = 0; r < remove.length; r++) {
            if (!remove[r]) {
                chunks.set(out++, chunks.get(r));
            }
        }
        chunks.subList(out, chunks.size()).clear();
    }

    private int indexOf(long seq) {
        int lo = 0;
        int hi = chunks.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long s = chunks.get(mid).seq;
            if (s < seq) {
                lo = mid + 1;
            } else if (s > seq) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("memory bank is closed");
        }
    }
}
