package dev.memlong.storage;

import dev.memlong.memory.KvLayout;
import dev.memlong.storage.proto.ChunkRecord;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.ExportChunk;
import dev.memlong.storage.proto.ExportTrailer;
import dev.memlong.storage.proto.TurnRecord;

/**
 * Writes an imported conversation in bounded batches, validating every record ({@link RecordChecks}; BAD_EXPORT
 * naming the field). The conversation record goes in the last batch, so a half-imported conversation is never
 * visible; {@link #abort()} removes partial data, best effort: if it cannot (or the process dies first), creating
 * a conversation with the key removes it ({@link ConversationMeta#deleteData}).
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
        requireValid("the header", RecordChecks.conversation(source));
        this.layout = Records.layout(source.getLayout());
        StoreBatch first = new StoreBatch(ctx.db);
        try {
            // leftovers of an import that crashed half-way (invisible without a conversation record)
            ConversationMeta.deleteData(first, key);
        } catch (RuntimeException e) {
            first.close(); // the caller only aborts a writer it got
            throw e;
        }
        batch = first;
    }

    void turn(TurnRecord t) {
        // the seq first: it makes the key every other error names
        requireValid("a turn", RecordChecks.seq(t.getSeq()));
        byte[] k = StoreKeys.item(prefix, t.getSeq());
        RecordCodec.checkVersion(ColumnFamily.TURNS, k, t.getSchemaVersion());
        requireValid("turn " + t.getSeq(), RecordChecks.turn(t));
        if (t.getSeq() <= lastTurnSeq) {
            throw ConversationTransfer.bad(key, "turn seq " + t.getSeq() + " out of order");
        }
        lastTurnSeq = t.getSeq();
        batch.put(ColumnFamily.TURNS, k, t.toByteArray());
        turns++;
        nextTurnSeq = t.getSeq() + 1;
        maybeFlush();
    }

    void chunk(ExportChunk c) {
        ChunkRecord chunk = c.getChunk();
        requireValid("a chunk", RecordChecks.seq(chunk.getSeq()));
        byte[] k = StoreKeys.item(prefix, chunk.getSeq());
        RecordCodec.checkVersion(ColumnFamily.CHUNKS, k, chunk.getSchemaVersion());
        RecordCodec.checkVersion(ColumnFamily.CHUNK_KV, k, c.getKv().getSchemaVersion());
        RecordCodec.checkVersion(ColumnFamily.CHUNK_EMBEDDINGS, k, c.getEmbedding().getSchemaVersion());
        requireValid("chunk " + chunk.getSeq(), RecordChecks.chunk(chunk));
        RecordCodec.checkKv(k, c.getKv(), layout, chunk.getTokenIdsCount());
        requireValid("chunk " + chunk.getSeq(),
                RecordChecks.embedding(RecordCodec.embedding(k, c.getEmbedding(), layout.embeddingDim())));
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
                .setUpdatedAtMs(ctx.now())
                // a new incarnation here: ranges trained from an earlier conversation with this key (forgotten, or
                // the exported original) must not move this one's cursor
                .setIncarnation(ConversationMeta.newIncarnation()).build();
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
            ConversationMeta.deleteData(cleanup, key);
            ctx.db.write(cleanup, false);
        } catch (RuntimeException e) {
            // the import's own error is the one to report; the leftovers stay invisible without a conversation
            // record, and whatever creates this conversation (an import, openConversation) deletes them first
        }
        batch = null;
    }

    private void requireValid(String what, String problem) {
        if (problem != null) {
            throw ConversationTransfer.bad(key, what + ": " + problem);
        }
    }

    private void maybeFlush() {
        if (batch.rocks().getDataSize() >= batchBytes) {
            ctx.db.write(batch, false);
            batch.close();
            batch = new StoreBatch(ctx.db);
        }
    }
}
