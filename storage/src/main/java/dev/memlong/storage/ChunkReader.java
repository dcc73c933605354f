package dev.memlong.storage;

import dev.memlong.memory.KvLayout;
import dev.memlong.storage.proto.ChunkKvRecord;
import dev.memlong.storage.proto.ChunkRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads chunk payloads (token ids, text, K/V) that are not in the K/V cache, checking their sizes. */
final class ChunkReader {

    private ChunkReader() {}

    /** Reads the chunks {@code misses} (metadata and K/V, one multiGet), caches and adds them to {@code payloads}. */
    static void read(StoreContext ctx, byte[] prefix, KvLayout layout, List<Long> misses,
                     Map<Long, KvCache.Entry> payloads) {
        List<ColumnFamily> cfs = new ArrayList<>(misses.size() * 2);
        List<byte[]> keys = new ArrayList<>(misses.size() * 2);
        for (long seq : misses) {
            byte[] k = StoreKeys.item(prefix, seq);
            cfs.add(ColumnFamily.CHUNKS);
            keys.add(k);
            cfs.add(ColumnFamily.CHUNK_KV);
            keys.add(k);
        }
        List<byte[]> values = ctx.db.multiGet(cfs, keys);
        for (int i = 0; i < misses.size(); i++) {
            byte[] k = keys.get(2 * i);
            byte[] meta = values.get(2 * i);
            byte[] kvBytes = values.get(2 * i + 1);
            if (meta == null || kvBytes == null) {
                throw RecordCodec.error(StorageException.Kind.MISSING_RECORD,
                        meta == null ? ColumnFamily.CHUNKS : ColumnFamily.CHUNK_KV, k,
                        "chunk indexed by the active bank is missing from disk", null);
            }
            ChunkRecord chunk = RecordCodec.chunk(k, meta);
            ChunkKvRecord kv = RecordCodec.kv(k, kvBytes, layout, chunk.getTokenIdsCount());
            KvCache.Entry e = new KvCache.Entry(Records.tokenIds(chunk), chunk.getText(),
                    kv.getKeys().toByteArray(), kv.getValues().toByteArray());
            ctx.cache.put(k, e);
            payloads.put(misses.get(i), e);
        }
    }

}
