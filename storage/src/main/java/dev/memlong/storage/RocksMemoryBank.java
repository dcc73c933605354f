package dev.memlong.storage;

import dev.memlong.memory.ChunkUsage;
import dev.memlong.memory.EvictionPlanner;
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
 *
 * <p>Eviction is planned by the memory module's {@link EvictionPlanner}, after every new chunk, exactly as
 * {@link dev.memlong.memory.InMemoryMemoryBank} does, so both banks keep the same chunks. {@link #fetch} hands
 * out the K/V cache's arrays without copying them (the contract forbids modifying them).
 */
public final class RocksMemoryBank implements MemoryBank {

    /**
     * What a write adds and evicts, applied to RAM once its batch is durable.
     *
     * @param added     sequence numbers given to the new chunks, in order (some may be in {@code evicted} too,
     *                  when a commit of several chunks overflows the bank)
     * @param kept      the new chunks that survived: {seq, tokens}, with their embeddings in {@code embeddings}
     * @param evicted   every chunk the write evicted, in eviction order
     */
    record Staged(List<Long> added, List<long[]> kept, List<float[]> embeddings, List<Long> evicted) {}

    private final StoreContext ctx;
    private final ConversationKey key;
    private final byte[] prefix;
    private final KvLayout layout;
    private final long capacity;
    private final EvictionPlanner planner;
    private final BankIndex index;
    private final Set<Long> dirtyCounters = new HashSet<>();
    private boolean closed;

    RocksMemoryBank(StoreContext ctx, ConversationKey key, ConversationRecord meta) {
        this.ctx = ctx;
        this.key = key;
        this.prefix = StoreKeys.conversation(key);
        this.layout = Records.layout(meta.getLayout());
        this.capacity = meta.getCapacityTokens();
        this.planner = new EvictionPlanner(Records.policy(meta.getEvictionPolicy()));
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

    @Override
    public EvictionPolicy evictionPolicy() {
        return planner.policy();
    }

    @Override
    public long append(NewChunk chunk) {
        ChunkWrites.validate(chunk, layout, capacity);
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
                return staged.added().get(0);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds {@code chunks}, their evictions and the pending counters to {@code batch} and {@code meta}, without
     * touching RAM. The caller holds the conversation lock, writes the batch, then calls {@link #apply}.
     * Eviction is planned after each new chunk, as if they were appended one by one; a new chunk that a later
     * one of the same commit evicts is never written.
     */
    synchronized Staged stage(StoreBatch batch, ConversationRecord.Builder meta, List<NewChunk> chunks, long now) {
        ensureOpen();
        chunks.forEach(c -> ChunkWrites.validate(c, layout, capacity));
        List<ChunkUsage> live = index.usage();
        long tokens = index.tokenTotal();
        List<Long> added = new ArrayList<>(chunks.size());
        Set<Long> evicted = new LinkedHashSet<>();
        for (NewChunk c : chunks) {
            long seq = meta.getNextChunkSeq();
            meta.setNextChunkSeq(seq + 1);
            added.add(seq);
            live.add(new ChunkUsage(seq, c.tokens(), 0));
            tokens += c.tokens();
            if (tokens > capacity) {
                List<Long> plan = planner.plan(live, capacity);
                Set<Long> gone = new HashSet<>(plan);
                live.removeIf(u -> gone.contains(u.seq()));
                tokens = live.stream().mapToLong(ChunkUsage::tokens).sum();
                evicted.addAll(plan);
            }
        }
        List<long[]> kept = new ArrayList<>(chunks.size());
        List<float[]> embeddings = new ArrayList<>(chunks.size());
        for (int i = 0; i < chunks.size(); i++) {
            long seq = added.get(i);
            NewChunk c = chunks.get(i);
            if (!evicted.contains(seq)) {
                ChunkWrites.put(batch, prefix, seq, c, now);
                kept.add(new long[] {seq, c.tokens()});
                embeddings.add(c.embedding().clone());
            }
        }
        for (long seq : evicted) {
            if (index.row(seq) >= 0) {
                ChunkWrites.delete(batch, prefix, seq);
            }
        }
        for (long seq : dirtyCounters) {
            int row = index.row(seq);
            if (row >= 0 && !evicted.contains(seq)) {
                ChunkWrites.putCounter(ctx.db, batch, prefix, seq, index.counter(row));
            }
        }
        meta.setChunkCount(live.size()).setTokenCount(tokens).setUpdatedAtMs(now);
        return new Staged(added, kept, embeddings, List.copyOf(evicted));
    }

    /** Applies a staged write to RAM after its batch was written. */
    synchronized void apply(Staged staged) {
        index.removeAll(staged.evicted());
        for (int i = 0; i < staged.kept().size(); i++) {
            long[] a = staged.kept().get(i);
            index.add(a[0], (int) a[1], 0, staged.embeddings().get(i));
        }
        staged.evicted().forEach(seq -> ctx.cache.invalidate(StoreKeys.item(prefix, seq)));
        dirtyCounters.clear();
    }

    @Override
    public synchronized List<ScoredChunk> topK(float[] query, int k) {
        ensureOpen();
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0, got " + k);
        }
        layout.requireQuery(query);
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
        ctx.fetchedFromCache.add(present.size() - misses.size());
        ctx.fetchedFromDisk.add(misses.size());
        List<MemoryChunk> out = new ArrayList<>(present.size());
        for (long seq : present) {
            int row = index.row(seq);
            KvCache.Entry e = payloads.get(seq);
            // the cache's arrays as they are: MemoryBank.fetch callers must not modify them, and copying ~390 KB
            // of K/V per chunk was most of a warm fetch's time and garbage
            out.add(new MemoryChunk(seq, e.tokenIds(), e.text(), index.embedding(row), e.keys(), e.values(),
                    index.counter(row)));
        }
        return out;
    }

    /**
     * Reads the chunks a retrieval by {@code query} will fetch into the store's K/V cache (the hits and their
     * successors, as {@code MemoryGather} picks them), so that the retrieval's {@link #fetch} finds them there. Holds
     * the bank's lock while it reads, like {@link #fetch}. Reads nothing when the store's K/V cache is disabled
     * ({@code kv-cache-bytes = 0}): the fetch would read everything again.
     */
    @Override
    public synchronized int readAhead(float[] query, int k, int nextChunks) {
        ensureOpen();
        MemoryBank.super.readAhead(query, k, nextChunks);
        if (!ctx.cache.enabled()) {
            return 0;
        }
        List<Long> misses = new ArrayList<>();
        for (ScoredChunk hit : index.topK(query, k)) {
            long seq = hit.seq();
            for (int n = 0; n <= nextChunks; n++, seq = successor(seq)) {
                if (index.row(seq) >= 0 && !misses.contains(seq) && ctx.cache.get(StoreKeys.item(prefix, seq)) == null) {
                    misses.add(seq);
                }
            }
        }
        ChunkReader.read(ctx, prefix, layout, misses, new HashMap<>());
        ctx.readAhead.add(misses.size());
        return misses.size();
    }

    @Override
    public synchronized void recordRetrieval(Collection<Long> seqs) {
        ensureOpen();
        for (long seq : seqs) { // once per occurrence
            int row = index.row(seq);
            if (row >= 0) {
                index.incrementCounter(row);
                dirtyCounters.add(seq);
            }
        }
    }

    @Override
    public synchronized List<Long> seqs() {
        ensureOpen();
        return List.copyOf(index.seqs());
    }

    @Override
    public synchronized int chunkCount() {
        ensureOpen();
        return index.size();
    }

    @Override
    public synchronized long tokenCount() {
        ensureOpen();
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
        // one critical section under the conversation's lock: a turn commit (which holds that lock) sees this bank
        // either open until its batch is written or closed, never open and then closed before stage()
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try {
            synchronized (this) {
                flushCounters();
                detach();
            }
        } finally {
            lock.unlock();
        }
    }
}
