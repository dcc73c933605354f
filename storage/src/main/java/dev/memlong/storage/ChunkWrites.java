package dev.memlong.storage;

import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import dev.memlong.storage.proto.ChunkRecord;

/**
 * The writes of one chunk. A chunk is three records under the same key (metadata, K/V, embedding), always put
 * or deleted together in one batch, so it is never half-written.
 */
final class ChunkWrites {

    private ChunkWrites() {}

    /**
     * Throws IllegalArgumentException unless {@code c} fits {@code layout} ({@link KvLayout#requireMatches}: sizes
     * and finite embedding values) and a bank of {@code capacityTokens}.
     */
    static void validate(NewChunk c, KvLayout layout, long capacityTokens) {
        layout.requireMatches(c);
        if (c.tokens() > capacityTokens) {
            throw new IllegalArgumentException("a chunk of " + c.tokens() + " tokens does not fit in a bank of "
                    + capacityTokens + " tokens");
        }
    }

    static void put(StoreBatch batch, byte[] conversationPrefix, long seq, NewChunk c, long now) {
        byte[] key = StoreKeys.item(conversationPrefix, seq);
        batch.put(ColumnFamily.CHUNKS, key, Records.chunk(seq, c, now).toByteArray());
        batch.put(ColumnFamily.CHUNK_KV, key, Records.kv(c).toByteArray());
        batch.put(ColumnFamily.CHUNK_EMBEDDINGS, key, Records.embedding(c.embedding()).toByteArray());
    }

    static void delete(StoreBatch batch, byte[] conversationPrefix, long seq) {
        byte[] key = StoreKeys.item(conversationPrefix, seq);
        batch.delete(ColumnFamily.CHUNKS, key);
        batch.delete(ColumnFamily.CHUNK_KV, key);
        batch.delete(ColumnFamily.CHUNK_EMBEDDINGS, key);
    }

    /** Deletes every chunk of a conversation. */
    static void deleteAll(StoreBatch batch, byte[] conversationPrefix) {
        batch.deletePrefix(ColumnFamily.CHUNKS, conversationPrefix);
        batch.deletePrefix(ColumnFamily.CHUNK_KV, conversationPrefix);
        batch.deletePrefix(ColumnFamily.CHUNK_EMBEDDINGS, conversationPrefix);
    }

    /** Rewrites a chunk's metadata with a new retrieval counter; skipped if the chunk is gone. */
    static void putCounter(RocksStore db, StoreBatch batch, byte[] conversationPrefix, long seq, long counter) {
        byte[] key = StoreKeys.item(conversationPrefix, seq);
        byte[] v = db.get(ColumnFamily.CHUNKS, key);
        if (v != null) {
            ChunkRecord r = RecordCodec.chunk(key, v);
            if (r.getRetrievalCount() != counter) {
                batch.put(ColumnFamily.CHUNKS, key, r.toBuilder().setRetrievalCount(counter).build().toByteArray());
            }
        }
    }
}
