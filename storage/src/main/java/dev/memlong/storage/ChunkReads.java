package dev.memlong.storage;

/**
 * How a store's memory banks got the chunks they handed out, since the store opened: what a retrieval's {@code fetch}
 * found in the K/V cache, what it had to read from RocksDB itself (a retrieval waiting for storage: on a device
 * thread, the whole batch waits), and what {@code readAhead} read from RocksDB beforehand, off that thread.
 *
 * @param fetchedFromCache chunks {@code fetch} found in the K/V cache
 * @param fetchedFromDisk  chunks {@code fetch} read from RocksDB
 * @param readAhead        chunks {@code readAhead} read from RocksDB into the cache
 */
public record ChunkReads(long fetchedFromCache, long fetchedFromDisk, long readAhead) {}
