package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.storage.proto.ConversationRecord;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The memory bank of one active conversation, backed by the store. Embeddings, token counts and retrieval
 * counters live in RAM ({@link BankIndex}) for exact search; K/V (with token ids and text) is read on demand
 * through the store's bounded LRU cache. {@link #append} and evictions are written durably (one batch each,
 * fsync per settings); retrieval counters are kept in RAM and written with the next append or turn commit, or
 * on {@link #close()}. Obtain one with {@link ConversationStore#activate}; closing it deactivates the
 * conversation. Methods are synchronized, so a turn commit from another thread is safe.
 */
public final class RocksMemoryBank implements MemoryBank {

    /** Chunks a write adds and evicts, applied to RAM once the batch is durable. */
    record Staged(List<long[]> added, List<float[]> embeddings, List<Long> evicted) {}

    private final StoreContext ctx;
    private final ConversationKey key;
    private final byte[] prefix;
    private final KvLayout layout;
    private final long capacity;
    private final EvictionPolicy policy;
    private final BankIndex index;
    private final Set<Long> dirtyCounters = new HashSet<>();
    private boolean closed;

    RocksMemoryBank(StoreContext ctx, ConversationKey key, ConversationRecord meta) {
        this.ctx = ctx;
        this.key = key;
        this.prefix = StoreKeys.conversation(key);
        this.layout = Records.layout(meta.getLayout());
        this.capacity = meta.getCapacityTokens();
        this.policy = Records.policy(meta.getEvictionPolicy());
        this.index = BankLoader.load(ctx.db, prefix, layout);
    }

    /** The conversation this bank belongs to. */
    public ConversationKey key() {
        return key;
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    /** The policy this bank evicts by. */
    public EvictionPolicy evictionPolicy() {
        return policy;
    }

    @Override
    public long append(NewChunk chunk) {
        ChunkWrites.validate(chunk, layout);
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try {
            synchronized (this) {
                ensureOpen();
                ConversationRecord.Builder meta = ConversationMeta.require(ctx.db, key).toBuilder();
                Staged staged;
                try (StoreBatch batch = new StoreBatch(ctx.db)) {
                    staged = stage(batch, meta, List.of(chunk), ctx.now());
                    ConversationMeta.put(batch, key, meta.build());
                    ctx.db.write(batch, ctx.settings.fsync());
                }
                apply(staged);
                return staged.added().get(0)[0];
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds {@code chunks}, their evictions and the pending counters to {@code batch} and {@code meta}, without
     * touching RAM. The caller holds the conversation lock, writes the batch, then calls {@link #apply}.
     */
    synchronized Staged stage(StoreBatch batch, ConversationRecord.Builder meta, List<NewChunk> chunks, long now) {
        ensureOpen();
        chunks.forEach(c -> ChunkWrites.validate(c, layout));
        List<EvictionSelector.Candidate> candidates = index.candidates();
        List<long[]> added = new ArrayList<>();
        List<float[]> embeddings = new ArrayList<>();
        for (NewChunk c : chunks) {
            long seq = meta.getNextChunkSeq();
            meta.setNextChunkSeq(seq + 1);
            ChunkWrites.put(batch, prefix, seq, c, now);
            added.add(new long[] {seq, c.tokenIds().length});
            embeddings.add(c.embedding().clone());
            candidates.add(new EvictionSelector.Candidate(seq, c.tokenIds().length, 0));
        }
        List<Long> evicted = EvictionSelector.select(candidates, capacity, policy);
        Set<Long> gone = new HashSet<>(evicted);
        evicted.forEach(seq -> ChunkWrites.delete(batch, prefix, seq));
        for (long seq : dirtyCounters) {
            int row = index.row(seq);
            if (row >= 0 && !gone.contains(seq)) {
                ChunkWrites.putCounter(ctx.db, batch, prefix, seq, index.counter(row));
            }
        }
        long chunksLeft = 0;
        long tokensLeft = 0;
        for (EvictionSelector.Candidate c : candidates) {
            if (!gone.contains(c.seq())) {
                chunksLeft++;
                tokensLeft += c.tokens();
            }
        }
        meta.setChunkCount(chunksLeft).setTokenCount(tokensLeft).setUpdatedAtMs(now);
        return new Staged(added, embeddings, evicted);
    }

    /** Applies a staged write to RAM after its batch was written. */
    synchronized void apply(Staged staged) {
        for (int i = 0; i < staged.added().size(); i++) {
            long[] a = staged.added().get(i);
            index.add(a[0], (int) a[1], 0, staged.embeddings().get(i));
        }
        index.removeAll(staged.evicted());
        staged.evicted().forEach(seq -> ctx.cache.invalidate(StoreKeys.item(prefix, seq)));
        dirtyCounters.clear();
    }

    @Override
    public synchronized List<ScoredChunk> topK(float[] query, int k) {
        ensureOpen();
        return index.topK(query, k);
    }

    @Override
    public synchronized List<MemoryChunk> fetch(Collection<Long> seqs) {
        ensureOpen();
        List<Long> present = new ArrayList<>();
        for (long seq : new TreeSet<>(seqs)) {
            if (index.row(seq) >= 0) {
                present.add(seq);
            }
        }
        Map<Long, KvCache.Entry> payloads = new HashMap<>();
        List<Long> misses = new ArrayList<>();
        for (long seq : present) {
            KvCache.Entry e = ctx.cache.get(StoreKeys.item(prefix, seq));
            if (e != null) {
                payloads.put(seq, e);
            } else {
                misses.add(seq);
            }
        }
        ChunkReader.read(ctx, prefix, layout, misses, payloads);
        List<MemoryChunk> out = new ArrayList<>(present.size());
        for (long seq : present) {
            int row = index.row(seq);
            KvCache.Entry e = payloads.get(seq);
            out.add(new MemoryChunk(seq, e.tokenIds().clone(), e.text(), index.embedding(row), e.keys().clone(),
                    e.values().clone(), index.counter(row)));
        }
        return out;
    }

    @Override
    public synchronized void recordRetrieval(Collection<Long> seqs) {
        ensureOpen();
        for (long seq : new LinkedHashSet<>(seqs)) {
            int row = index.row(seq);
            if (row >= 0) {
                index.incrementCounter(row);
                dirtyCounters.add(seq);
            }
        }
    }

    @Override
    public synchronized List<Long> seqs() {
        return index.seqs();
    }

    @Override
    public synchronized int chunkCount() {
        return index.size();
    }

    @Override
    public synchronized long tokenCount() {
        return index.tokenTotal();
    }

    @Override
    public long capacityTokens() {
        return capacity;
    }

    @Override
    public void clear() {
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try {
            synchronized (this) {
                ensureOpen();
                ConversationRecord.Builder meta = ConversationMeta.require(ctx.db, key).toBuilder();
                try (StoreBatch batch = new StoreBatch(ctx.db)) {
                    ChunkWrites.deleteAll(batch, prefix);
                    meta.setChunkCount(0).setTokenCount(0).setUpdatedAtMs(ctx.now());
                    ConversationMeta.put(batch, key, meta.build());
                    ctx.db.write(batch, ctx.settings.fsync());
                }
                index.clear();
                dirtyCounters.clear();
                ctx.cache.invalidatePrefix(prefix);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Pending retrieval counters are written now (without fsync). */
    public void flushCounters() {
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try {
            synchronized (this) {
                if (closed || dirtyCounters.isEmpty()) {
                    return;
                }
                try (StoreBatch batch = new StoreBatch(ctx.db)) {
                    for (long seq : dirtyCounters) {
                        int row = index.row(seq);
                        if (row >= 0) {
                            ChunkWrites.putCounter(ctx.db, batch, prefix, seq, index.counter(row));
                        }
                    }
                    ctx.db.write(batch, false);
                }
                dirtyCounters.clear();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Drops the bank without writing anything (the conversation was forgotten or the store is closing). */
    synchronized void detach() {
        closed = true;
        dirtyCounters.clear();
        index.clear();
        ctx.unregister(this);
    }

    synchronized boolean isOpen() {
        return !closed;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the memory bank of " + key + " is closed (deactivated or forgotten)");
        }
    }

    /** Writes pending counters and deactivates the conversation. Idempotent. */
    @Override
    public void close() {
        flushCounters();
        detach();
    }
}
