package dev.memlong.storage;

import org.rocksdb.WriteBatch;

/** A RocksDB WriteBatch addressed by {@link ColumnFamily}; written atomically by {@link RocksStore#write}. */
final class StoreBatch implements AutoCloseable {

    private final RocksStore store;
    private final WriteBatch batch = new WriteBatch();

    StoreBatch(RocksStore store) {
        this.store = store;
    }

    StoreBatch put(ColumnFamily cf, byte[] key, byte[] value) {
        return apply("put", cf, key, h -> batch.put(h, key, value));
    }

    StoreBatch delete(ColumnFamily cf, byte[] key) {
        return apply("delete", cf, key, h -> batch.delete(h, key));
    }

    /** Deletes {@code [from, to)}. */
    StoreBatch deleteRange(ColumnFamily cf, byte[] from, byte[] to) {
        return apply("deleteRange", cf, from, h -> batch.deleteRange(h, from, to));
    }

    /** Deletes every key starting with {@code prefix}. */
    StoreBatch deletePrefix(ColumnFamily cf, byte[] prefix) {
        return deleteRange(cf, prefix, StoreKeys.upperBound(prefix));
    }

    WriteBatch rocks() {
        return batch;
    }

    private StoreBatch apply(String op, ColumnFamily cf, byte[] key, RocksStore.BatchOp body) {
        store.batchOp("batch " + op, cf, key, body);
        return this;
    }

    @Override
    public void close() {
        batch.close();
    }
}
