package dev.memlong.storage;

import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactRangeOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.MutableColumnFamilyOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteOptions;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Owner of every RocksObject of the node's database. Nothing else creates or closes one (except short-lived
 * WriteBatches and Checkpoints, closed where they are made). {@link #close()} is idempotent, waits for
 * operations in flight, and closes in this order: open iterators, column family handles, the DB, DBOptions,
 * ColumnFamilyOptions, WriteOptions and ReadOptions, the block cache, the bloom filter.
 */
final class RocksStore implements AutoCloseable {

    static {
        RocksDB.loadLibrary();
    }

    /** A visitor over a key range; returns false to stop. */
    interface Visitor {
        boolean visit(byte[] key, byte[] value);
    }

    private final Path path;
    private final LRUCache blockCache;
    private final BloomFilter bloomFilter;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions smallValues;
    private final ColumnFamilyOptions largeValues;
    private final WriteOptions syncWrites;
    private final WriteOptions asyncWrites;
    private final ReadOptions reads;
    private final List<ColumnFamilyHandle> allHandles;
    private final Map<ColumnFamily, ColumnFamilyHandle> handles = new EnumMap<>(ColumnFamily.class);
    private final RocksDB db;
    private final Set<RocksIterator> openIterators = ConcurrentHashMap.newKeySet();
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private final Object blobErase = new Object();
    private boolean closed;

    private RocksStore(StorageSettings s, List<AutoCloseable> created) throws RocksDBException {
        this.path = s.path();
        blockCache = track(created, new LRUCache(s.blockCacheBytes()));
        bloomFilter = track(created, new BloomFilter(10));
        dbOptions = track(created, new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
                .setMaxBackgroundJobs(s.maxBackgroundJobs()).setKeepLogFileNum(2).setMaxLogFileSize(1 << 20)
                .setInfoLogLevel(InfoLogLevel.WARN_LEVEL).setBytesPerSync(1 << 20));
        BlockBasedTableConfig table = new BlockBasedTableConfig().setBlockCache(blockCache)
                .setFilterPolicy(bloomFilter).setBlockSize(16 * 1024);
        smallValues = track(created, new ColumnFamilyOptions().setTableFormatConfig(table)
                .setCompressionType(CompressionType.LZ4_COMPRESSION).setWriteBufferSize(s.writeBufferBytes()));
        // K/V values are ~hundreds of KB of fp16 noise: keep them out of the LSM tree (no rewrite on compaction)
        // and do not try to compress them.
        largeValues = track(created, new ColumnFamilyOptions().setTableFormatConfig(table)
                .setCompressionType(CompressionType.NO_COMPRESSION).setWriteBufferSize(s.writeBufferBytes())
                .setEnableBlobFiles(true).setMinBlobSize(4096).setBlobFileSize(256L << 20)
                .setBlobCompressionType(CompressionType.NO_COMPRESSION).setEnableBlobGarbageCollection(true));
        syncWrites = track(created, new WriteOptions().setSync(true));
        asyncWrites = track(created, new WriteOptions().setSync(false));
        reads = track(created, new ReadOptions());

        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, smallValues));
        for (ColumnFamily cf : ColumnFamily.values()) {
            descriptors.add(new ColumnFamilyDescriptor(name(cf), cf.largeValues() ? largeValues : smallValues));
        }
        for (byte[] existing : existingColumnFamilies(path)) { // e.g. written by a newer build: must be opened too
            if (descriptors.stream().noneMatch(d -> Arrays.equals(d.getName(), existing))) {
                descriptors.add(new ColumnFamilyDescriptor(existing, smallValues));
            }
        }
        List<ColumnFamilyHandle> opened = new ArrayList<>();
        db = RocksDB.open(dbOptions, path.toString(), descriptors, opened);
        allHandles = Collections.unmodifiableList(opened);
        for (ColumnFamily cf : ColumnFamily.values()) {
            handles.put(cf, opened.get(cf.ordinal() + 1));
        }
    }

    /** Opens (creating if missing) the database of {@code settings}, after checking the directory is usable. */
    static RocksStore open(StorageSettings settings) {
        StartupCheck.check(settings.path(), settings.minFreeDiskBytes());
        List<AutoCloseable> created = new ArrayList<>();
        try {
            return new RocksStore(settings, created);
        } catch (RocksDBException | RuntimeException e) {
            Collections.reverse(created);
            created.forEach(RocksStore::closeQuietly);
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            if (why.contains("lock")) {
                why += " (is the store open in another process?)";
            }
            throw new StorageException(StorageException.Kind.STARTUP,
                    "cannot open the store at " + settings.path().toAbsolutePath() + ": " + why, e);
        }
    }

    private static List<byte[]> existingColumnFamilies(Path path) throws RocksDBException {
        if (!Files.exists(path.resolve("CURRENT"))) {
            return List.of();
        }
        try (org.rocksdb.Options options = new org.rocksdb.Options()) {
            return RocksDB.listColumnFamilies(options, path.toString());
        }
    }

    private static byte[] name(ColumnFamily cf) {
        return cf.cfName().getBytes(StandardCharsets.UTF_8);
    }

    private static <T extends AutoCloseable> T track(List<AutoCloseable> created, T object) {
        created.add(object);
        return object;
    }

    Path path() {
        return path;
    }

    private ColumnFamilyHandle handle(ColumnFamily cf) {
        return handles.get(cf);
    }

    /** A batch operation on a column family's handle. */
    interface BatchOp {
        void run(ColumnFamilyHandle handle) throws RocksDBException;
    }

    /**
     * Runs a batch operation under the lifecycle lock: after {@link #close()} it fails typed ({@code CLOSED}). A
     * WriteBatch given a closed handle reads freed native memory: that crashed the JVM (a trainer's rollback write
     * after the store had closed).
     */
    void batchOp(String operation, ColumnFamily cf, byte[] key, BatchOp body) {
        call(operation, cf, key, () -> {
            body.run(handle(cf));
            return null;
        });
    }

    /** The value of {@code key}, or null. */
    byte[] get(ColumnFamily cf, byte[] key) {
        return call("get", cf, key, () -> db.get(handle(cf), reads, key));
    }

    /** The value of {@code key} at {@code snapshot}, or null. */
    byte[] get(ColumnFamily cf, byte[] key, Snapshot snapshot) {
        return call("get", cf, key, () -> {
            try (ReadOptions options = new ReadOptions().setSnapshot(snapshot)) {
                return db.get(handle(cf), options, key);
            }
        });
    }

    /** The values of {@code keys} (null where absent), in order; one column family per key. */
    List<byte[]> multiGet(List<ColumnFamily> cfs, List<byte[]> keys) {
        if (keys.isEmpty()) {
            return List.of();
        }
        List<ColumnFamilyHandle> hs = cfs.stream().map(this::handle).toList();
        return call("multiGet", cfs.get(0), keys.get(0), () -> db.multiGetAsList(reads, hs, keys));
    }

    /** Writes a batch atomically; {@code sync} fsyncs the WAL before returning. */
    void write(StoreBatch batch, boolean sync) {
        call("write", null, null, () -> {
            db.write(sync ? syncWrites : asyncWrites, batch.rocks());
            return null;
        });
    }

    /** Visits {@code [from, toExclusive)} of {@code cf} in key order, at {@code snapshot} if not null. */
    void scan(ColumnFamily cf, byte[] from, byte[] toExclusive, Snapshot snapshot, Visitor visitor) {
        call("scan", cf, from, () -> {
            try (ReadOptions options = new ReadOptions().setSnapshot(snapshot);
                 RocksIterator it = db.newIterator(handle(cf), options)) {
                openIterators.add(it);
                try {
                    for (it.seek(from); it.isValid(); it.next()) {
                        byte[] key = it.key();
                        if (Arrays.compareUnsigned(key, toExclusive) >= 0 || !visitor.visit(key, it.value())) {
                            break;
                        }
                    }
                    it.status(); // an IO error ends iteration too: never take it for the end of the data
                } finally {
                    openIterators.remove(it);
                }
            }
            return null;
        });
    }

    /** Runs {@code body} with a consistent snapshot of the whole database. */
    <T> T withSnapshot(java.util.function.Function<Snapshot, T> body) {
        Snapshot snapshot = call("snapshot", null, null, db::getSnapshot);
        try {
            return body.apply(snapshot);
        } finally {
            call("releaseSnapshot", null, null, () -> {
                db.releaseSnapshot(snapshot);
                snapshot.close();
                return null;
            });
        }
    }

    /** Compacts {@code [from, to)} of {@code cf} so deleted data is dropped from the files. */
    void compactRange(ColumnFamily cf, byte[] from, byte[] to) {
        call("compactRange", cf, from, () -> {
            // not exclusive: a forget's compaction of its own key range must not wait behind (or stop) others
            try (CompactRangeOptions options = new CompactRangeOptions().setExclusiveManualCompaction(false)) {
                db.compactRange(handle(cf), from, to, options);
            }
            return null;
        });
    }

    /**
     * Drops the deleted values of {@code cf}, a blob column family, from its blob files: compacts the whole column
     * family with blob garbage collection over every blob file (age cutoff 1.0) and the bottommost level forced,
     * so each blob still referenced is copied to a new file and every old blob file, its deleted values included,
     * becomes unreferenced and is removed. A blob file is shared by every conversation written in the same flush
     * and referenced from SST files all over the key range: compacting one conversation's range, or collecting
     * only the oldest files (the configured cutoff), leaves the bytes on disk. Cost: the column family's whole
     * size is read and written again, and needs that much free disk while it runs.
     */
    void compactErasingBlobs(ColumnFamily cf) {
        call("compactErasingBlobs", cf, null, () -> {
            // the cutoff is an option of the column family, shared with background compactions and any other
            // erase: one erase at a time, and the configured value put back whatever happens
            synchronized (blobErase) {
                // plain Java option maps (no native handle to close)
                MutableColumnFamilyOptions all = MutableColumnFamilyOptions.builder()
                        .setBlobGarbageCollectionAgeCutoff(1.0).build();
                MutableColumnFamilyOptions configured = MutableColumnFamilyOptions.builder()
                        .setBlobGarbageCollectionAgeCutoff(largeValues.blobGarbageCollectionAgeCutoff()).build();
                // not exclusive: an exclusive manual compaction stops every automatic one in the store (and other
                // manual ones wait) for as long as this rewrite of all K/V takes
                try (CompactRangeOptions force = new CompactRangeOptions()
                        .setBottommostLevelCompaction(CompactRangeOptions.BottommostLevelCompaction.kForce)
                        .setExclusiveManualCompaction(false)) {
                    db.setOptions(handle(cf), all);
                    try {
                        db.compactRange(handle(cf), null, null, force);
                    } finally {
                        db.setOptions(handle(cf), configured);
                    }
                }
            }
            return null;
        });
    }

    /** Flushes every column family's memtable to SST (and blob) files and waits for it. */
    void flush() {
        call("flush", null, null, () -> {
            try (FlushOptions options = new FlushOptions().setWaitForFlush(true)) {
                db.flush(options, allHandles);
            }
            return null;
        });
    }

    /** Writes an online, consistent copy of the database to {@code target} (must not exist). */
    void checkpoint(Path target) {
        call("checkpoint " + target, null, null, () -> {
            try (Checkpoint checkpoint = Checkpoint.create(db)) {
                checkpoint.createCheckpoint(target.toString());
            }
            return null;
        });
    }

    private interface DbCall<T> {
        T run() throws RocksDBException;
    }

    private <T> T call(String operation, ColumnFamily cf, byte[] key, DbCall<T> body) {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new StorageException(StorageException.Kind.CLOSED, "the store at " + path + " is closed", null);
            }
            return body.run();
        } catch (RocksDBException e) {
            throw new StorageException(StorageException.Kind.IO, StoreKeys.conversationName(cf, key),
                    cf == null ? null : cf.cfName(), key == null || cf == null ? null : StoreKeys.render(cf, key),
                    operation + " failed: " + e.getMessage(), e);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Idempotent; waits for operations in flight. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            openIterators.forEach(RocksStore::closeQuietly);
            openIterators.clear();
            allHandles.forEach(RocksStore::closeQuietly);
            try {
                db.closeE();
            } catch (RocksDBException e) {
                System.getLogger(RocksStore.class.getName())
                        .log(System.Logger.Level.WARNING, "closing RocksDB at " + path + ": " + e.getMessage());
            }
            for (AutoCloseable o : List.of(dbOptions, smallValues, largeValues, syncWrites, asyncWrites, reads,
                    blockCache, bloomFilter)) {
                closeQuietly(o);
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private static void closeQuietly(AutoCloseable o) {
        try {
            o.close();
        } catch (Exception ignored) {
            // closing native handles in shutdown: nothing useful to do with a failure
        }
    }
}
