package dev.memlong.storage;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * What the parts of an open store share: the database, the K/V cache, the settings, per-conversation write
 * locks and the registry of active banks. Every read-modify-write of a conversation (turn commit, chunk append,
 * eviction, forget, import) holds that conversation's lock, so its metadata counters stay exact.
 */
final class StoreContext {

    private static final int STRIPES = 64;

    final RocksStore db;
    final KvCache cache;
    final StorageSettings settings;
    /** Epoch milliseconds: the system clock, or a test's. */
    private final LongSupplier clock;
    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];
    private final Map<ConversationKey, RocksMemoryBank> activeBanks = new ConcurrentHashMap<>();
    /** Chunks fetched from the K/V cache, fetched from RocksDB, and read ahead from RocksDB ({@link ChunkReads}). */
    final LongAdder fetchedFromCache = new LongAdder();
    final LongAdder fetchedFromDisk = new LongAdder();
    final LongAdder readAhead = new LongAdder();

    StoreContext(RocksStore db, StorageSettings settings) {
        this(db, settings, System::currentTimeMillis);
    }

    StoreContext(RocksStore db, StorageSettings settings, LongSupplier clock) {
        this.clock = clock;
        this.db = db;
        this.settings = settings;
        this.cache = new KvCache(settings.kvCacheBytes());
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    /** The write lock of a conversation (striped: unrelated conversations may share one). */
    ReentrantLock lock(ConversationKey key) {
        return locks[Math.floorMod(key.hashCode(), STRIPES)];
    }

    /**
     * The write locks of several conversations, each stripe once, in stripe order: taking them in this order never
     * deadlocks against another caller doing the same or taking one lock.
     */
    java.util.List<ReentrantLock> locks(java.util.Collection<ConversationKey> keys) {
        java.util.TreeSet<Integer> stripes = new java.util.TreeSet<>();
        for (ConversationKey key : keys) {
            stripes.add(Math.floorMod(key.hashCode(), STRIPES));
        }
        return stripes.stream().map(i -> locks[i]).toList();
    }

    RocksMemoryBank activeBank(ConversationKey key) {
        return activeBanks.get(key);
    }

    void register(RocksMemoryBank bank) {
        activeBanks.put(bank.key(), bank);
    }

    void unregister(RocksMemoryBank bank) {
        activeBanks.remove(bank.key(), bank);
    }

    Iterable<RocksMemoryBank> activeBanks() {
        return activeBanks.values();
    }

    ChunkReads chunkReads() {
        return new ChunkReads(fetchedFromCache.sum(), fetchedFromDisk.sum(), readAhead.sum());
    }

    long now() {
        return clock.getAsLong();
    }
}
