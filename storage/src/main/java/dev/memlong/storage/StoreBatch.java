package dev.memlong.storage;

import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/** A RocksDB WriteBatch addressed by {@link ColumnFamily}; written atomically by {@link RocksStore#write}. */
final class StoreBatch implements AutoCloseable {

    private final RocksStore store;
    private final WriteBatch batch = new WriteBatch();

    StoreBatch(RocksStore store) {
        this.store = store;
    }

    StoreBatch put(ColumnFamily cf, byte[] key, byte[] value) {
        return apply("put", cf, key, () -> batch.put(store.handle(cf), key, value));
    }

    StoreBatch delete(ColumnFamily cf, byte[] key) {
        return apply("delete", cf, key, () -> batch.delete(store.handle(cf), key));
    }

    /** Deletes {@code [from, to)}. */
    StoreBatch deleteRange(ColumnFamily cf, byte[] from, byte[] to) {
        return apply("deleteRange", cf, from, () -> batch.deleteRange(store.handle(cf), from, to));
    }

    /** Deletes every key starting with {@code prefix}. */
    StoreBatch deletePrefix(ColumnFamily cf, byte[] prefix) {
        return deleteRange(cf, prefix, StoreKeys.upperBound(prefix));
    }

    WriteBatch rocks() {
        return batch;
    }

    private interface Op {
        void run() throws RocksDBException;
    }

    private StoreBatch apply(String op, ColumnFamily cf, byte[] key, Op body) {
        try {
            body.run();
            return this;
        } catch (RocksDBException e) {
            throw new StorageException(StorageException.Kind.IO, StoreKeys.conversationName(cf, key), cf.cfName(),
                    StoreKeys.render(cf, key), "batch " + op + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        batch.close();
    }
}
