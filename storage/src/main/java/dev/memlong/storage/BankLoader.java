package dev.memlong.storage;

import dev.memlong.memory.KvLayout;
import dev.memlong.storage.proto.ChunkRecord;

import java.util.ArrayList;
import java.util.List;

/**
 * Activation: reads a conversation's chunk metadata and embeddings (two prefix scans, in seq order) into a
 * {@link BankIndex}. K/V is not read here; it is fetched on demand.
 */
final class BankLoader {

    private BankLoader() {}

    static BankIndex load(RocksStore db, byte[] prefix, KvLayout layout) {
        byte[] end = StoreKeys.upperBound(prefix);
        List<long[]> chunks = new ArrayList<>(); // {seq, tokens, counter}
        db.scan(ColumnFamily.CHUNKS, prefix, end, null, (key, value) -> {
            ChunkRecord r = RecordCodec.chunk(key, value);
            chunks.add(new long[] {StoreKeys.seq(key), r.getTokenIdsCount(), r.getRetrievalCount()});
            return true;
        });
        BankIndex index = new BankIndex(layout.embeddingDim());
        int[] next = {0};
        db.scan(ColumnFamily.CHUNK_EMBEDDINGS, prefix, end, null, (key, value) -> {
            long seq = StoreKeys.seq(key);
            if (next[0] >= chunks.size() || chunks.get(next[0])[0] != seq) {
                throw RecordCodec.error(StorageException.Kind.MISSING_RECORD, ColumnFamily.CHUNKS, key,
                        "an embedding without chunk metadata", null);
            }
            long[] c = chunks.get(next[0]++);
            index.add(seq, (int) c[1], c[2], RecordCodec.embedding(key, value, layout.embeddingDim()));
            return true;
        });
        if (next[0] != chunks.size()) {
            byte[] key = StoreKeys.item(prefix, chunks.get(next[0])[0]);
            throw RecordCodec.error(StorageException.Kind.MISSING_RECORD, ColumnFamily.CHUNK_EMBEDDINGS, key,
                    "chunk metadata without an embedding", null);
        }
        return index;
    }
}
