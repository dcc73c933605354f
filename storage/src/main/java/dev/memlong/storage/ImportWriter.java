package dev.memlong.storage;

import dev.memlong.memory.KvLayout;
import dev.memlong.storage.proto.ChunkRecord;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.ExportChunk;
import dev.memlong.storage.proto.ExportTrailer;
import dev.memlong.storage.proto.TurnRecord;

/**
 * Writes an imported conversation in bounded batches, validating every record. The conversation record goes in
 * the last batch, so a half-imported conversation is never visible; {@link #abort()} removes partial data.
 */
final class ImportWriter {

    private final StoreContext ctx;
    private final ConversationKey key;
    private final byte[] prefix;
    private final ConversationRecord source;
    private final KvLayout layout;
    private final long batchBytes;
    private StoreBatch batch;
    private long turns;
    private long chunks;
    private long tokens;
    private long nextTurnSeq;
    private long nextChunkSeq;
    private long lastTurnSeq = -1;
    private long lastChunkSeq = -1;

    ImportWriter(StoreContext ctx, ConversationKey key, ConversationRecord source, long batchBytes) {
        this.ctx = ctx;
        this.key = key;
        this.prefix = StoreKeys.conversation(key);
        this.source = source;
        this.batchBytes = batchBytes;
        RecordCodec.checkVersion(ColumnFamily.CONVERSATIONS, prefix, source.getSchemaVersion());
        try {
            this.layout = Records.layout(source.getLayout());
        } catch (IllegalArgumentException e) {
            throw ConversationTransfer.bad(key, "invalid K/V layout in the header: " + e.getMessage());
        }
        batch = new StoreBatch(ctx.db);
        // leftovers of an import that crashed half-way (invisible without a conversation record)
        for (ColumnFamily cf : ColumnFamily.CONVERSATION_DATA) {
            if (cf != ColumnFamily.CONVERSATIONS) {
                batch.deletePrefix(cf, prefix);
            }
        }
    }

    void turn(TurnRecord t) {
        ConversationTransfer.checkTurn(key, t);
        if (t.getSeq() <= lastTurnSeq) {
            throw ConversationTransfer.bad(key, "turn seq " + t.getSeq() + " out of order");
        }
        lastTurnSeq = t.getSeq();
        batch.put(ColumnFamily.TURNS, StoreKeys.item(prefix, t.getSeq()), t.toByteArray());
        turns++;
        nextTurnSeq = t.getSeq() + 1;
        maybeFlush();
    }

    void chunk(ExportChunk c) {
        ChunkRecord chunk = c.getChunk();
        byte[] k = StoreKeys.item(prefix, chunk.getSeq());
        RecordCodec.checkVersion(ColumnFamily.CHUNKS, k, chunk.getSchemaVersion());
        RecordCodec.checkVersion(ColumnFamily.CHUNK_KV, k, c.getKv().getSchemaVersion());
        RecordCodec.checkVersion(ColumnFamily.CHUNK_EMBEDDINGS, k, c.getEmbedding().getSchemaVersion());
        RecordCodec.checkKv(k, c.getKv(), layout, chunk.getTokenIdsCount());
        RecordCodec.embedding(k, c.getEmbedding(), layout.embeddingDim());
        if (chunk.getSeq() <= lastChunkSeq) {
            throw ConversationTransfer.bad(key, "chunk seq " + chunk.getSeq() + " out of order");
        }
        lastChunkSeq = chunk.getSeq();
        batch.put(ColumnFamily.CHUNKS, k, chunk.toByteArray());
        batch.put(ColumnFamily.CHUNK_KV, k, c.getKv().toByteArray());
        batch.put(ColumnFamily.CHUNK_EMBEDDINGS, k, c.getEmbedding().toByteArray());
        chunks++;
        tokens += chunk.getTokenIdsCount();
        nextChunkSeq = chunk.getSeq() + 1;
        maybeFlush();
    }

    ConversationInfo finish(ExportTrailer trailer) {
        if (trailer.getTurns() != turns || trailer.getChunks() != chunks) {
            throw ConversationTransfer.bad(key, "trailer counts " + trailer.getTurns() + " turns, "
                    + trailer.getChunks() + " chunks; the stream held " + turns + " and " + chunks);
        }
        ConversationRecord meta = source.toBuilder().setSchemaVersion(RecordCodec.SCHEMA_VERSION)
                .setTenant(key.tenant()).setConversationId(key.conversationId()).setTurnCount(turns)
                .setChunkCount(chunks).setTokenCount(tokens)
                .setNextTurnSeq(Math.max(source.getNextTurnSeq(), nextTurnSeq))
                .setNextChunkSeq(Math.max(source.getNextChunkSeq(), nextChunkSeq))
                .setUpdatedAtMs(ctx.now()).build();
        ConversationMeta.put(batch, key, meta);
        ctx.db.write(batch, true);
        batch.close();
        batch = null;
        return Records.info(meta);
    }

    void abort() {
        if (batch != null) {
            batch.close();
        }
        try (StoreBatch cleanup = new StoreBatch(ctx.db)) {
            for (ColumnFamily cf : ColumnFamily.CONVERSATION_DATA) {
                if (cf != ColumnFamily.CONVERSATIONS) {
                    cleanup.deletePrefix(cf, prefix);
                }
            }
            ctx.db.write(cleanup, false);
        } catch (RuntimeException e) {
            // the leftovers are invisible and the next import of this key removes them
        }
        batch = null;
    }

    private void maybeFlush() {
        if (batch.rocks().getDataSize() >= batchBytes) {
            ctx.db.write(batch, false);
            batch.close();
            batch = new StoreBatch(ctx.db);
        }
    }
}
