package dev.memlong.storage;

import dev.memlong.memory.KvLayout;
import dev.memlong.storage.proto.ConversationRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Scans a conversation's chunk column families at one snapshot and reports half-written chunks, and turns or
 * chunks at or past the conversation's next sequence numbers (no write of the conversation made those: they are
 * leftovers, e.g. of an import, and the next append would collide with them).
 */
final class IntegrityCheck {

    private IntegrityCheck() {}

    static IntegrityReport run(StoreContext ctx, ConversationKey key) {
        byte[] prefix = StoreKeys.conversation(key);
        byte[] end = StoreKeys.upperBound(prefix);
        return ctx.db.withSnapshot(snapshot -> {
            byte[] metaBytes = ctx.db.get(ColumnFamily.CONVERSATIONS, prefix, snapshot);
            if (metaBytes == null) {
                throw new StorageException(StorageException.Kind.NOT_FOUND, key.toString(),
                        ColumnFamily.CONVERSATIONS.cfName(), key.toString(), "no such conversation", null);
            }
            ConversationRecord meta = RecordCodec.conversation(prefix, metaBytes); // checked: the layout is valid
            KvLayout layout = Records.layout(meta.getLayout());
            TreeMap<Long, Integer> tokens = new TreeMap<>();      // seq -> tokens, from chunk metadata
            TreeMap<Long, Integer> seen = new TreeMap<>();        // seq -> bitmask of column families holding it
            List<Long> incomplete = new ArrayList<>();
            ctx.db.scan(ColumnFamily.CHUNKS, prefix, end, snapshot, (k, v) -> {
                tokens.put(StoreKeys.seq(k), RecordCodec.chunk(k, v).getTokenIdsCount());
                seen.merge(StoreKeys.seq(k), 1, (a, b) -> a | b);
                return true;
            });
            ctx.db.scan(ColumnFamily.CHUNK_KV, prefix, end, snapshot, (k, v) -> {
                long seq = StoreKeys.seq(k);
                seen.merge(seq, 2, (a, b) -> a | b);
                try {
                    RecordCodec.kv(k, v, layout, tokens.getOrDefault(seq, -1));
                } catch (StorageException e) {
                    incomplete.add(seq);
                }
                return true;
            });
            ctx.db.scan(ColumnFamily.CHUNK_EMBEDDINGS, prefix, end, snapshot, (k, v) -> {
                seen.merge(StoreKeys.seq(k), 4, (a, b) -> a | b);
                return true;
            });
            seen.forEach((seq, mask) -> {
                if (mask != 7 && !incomplete.contains(seq)) {
                    incomplete.add(seq);
                }
            });
            long[] turns = {0};
            List<Long> strayTurns = new ArrayList<>();
            ctx.db.scan(ColumnFamily.TURNS, prefix, end, snapshot, (k, v) -> {
                RecordCodec.turn(k, v);
                turns[0]++;
                if (StoreKeys.seq(k) >= meta.getNextTurnSeq()) {
                    strayTurns.add(StoreKeys.seq(k));
                }
                return true;
            });
            List<Long> strayChunks = List.copyOf(seen.tailMap(meta.getNextChunkSeq()).keySet());
            long stored = tokens.values().stream().mapToLong(Integer::longValue).sum();
            return new IntegrityReport(tokens.size(), List.copyOf(incomplete), meta.getChunkCount(),
                    meta.getTokenCount(), stored, turns[0], meta.getTurnCount(), List.copyOf(strayTurns),
                    strayChunks);
        });
    }
}
