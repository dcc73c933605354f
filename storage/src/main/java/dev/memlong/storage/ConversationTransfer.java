package dev.memlong.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.memlong.memory.KvLayout;
import dev.memlong.storage.proto.ChunkEmbeddingRecord;
import dev.memlong.storage.proto.ChunkKvRecord;
import dev.memlong.storage.proto.ChunkRecord;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.ExportChunk;
import dev.memlong.storage.proto.ExportHeader;
import dev.memlong.storage.proto.ExportRecord;
import dev.memlong.storage.proto.ExportTrailer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * Export and import of one conversation as a stream of length-delimited {@code ExportRecord}s: a header (the
 * conversation's metadata), its turns, its chunks (metadata, K/V, embedding together), a trailer with counts.
 * Export reads one consistent snapshot. Import writes in bounded batches and makes the conversation visible
 * only with its last batch (metadata last); a failed import removes what it wrote.
 */
final class ConversationTransfer {

    static final int FORMAT_VERSION = 1;
    private static final long BATCH_BYTES = 16L << 20;

    private final StoreContext ctx;

    ConversationTransfer(StoreContext ctx) {
        this.ctx = ctx;
    }

    /** Writes the conversation to {@code out}; returns the number of records written. */
    long export(ConversationKey key, OutputStream out) {
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
            long[] counts = new long[2];
            write(out, ExportRecord.newBuilder().setHeader(ExportHeader.newBuilder()
                    .setFormatVersion(FORMAT_VERSION).setConversation(meta)).build());
            ctx.db.scan(ColumnFamily.TURNS, prefix, end, snapshot, (k, v) -> {
                write(out, ExportRecord.newBuilder().setTurn(RecordCodec.turn(k, v)).build());
                counts[0]++;
                return true;
            });
            ctx.db.scan(ColumnFamily.CHUNKS, prefix, end, snapshot, (k, v) -> {
                ChunkRecord chunk = RecordCodec.chunk(k, v);
                byte[] kv = require(ColumnFamily.CHUNK_KV, k, ctx.db.get(ColumnFamily.CHUNK_KV, k, snapshot));
                byte[] emb = require(ColumnFamily.CHUNK_EMBEDDINGS, k,
                        ctx.db.get(ColumnFamily.CHUNK_EMBEDDINGS, k, snapshot));
                ChunkKvRecord kvRecord = RecordCodec.kv(k, kv, layout, chunk.getTokenIdsCount());
                RecordCodec.embedding(k, emb, layout.embeddingDim());
                write(out, ExportRecord.newBuilder().setChunk(ExportChunk.newBuilder().setChunk(chunk)
                        .setKv(kvRecord).setEmbedding(parseEmbedding(k, emb))).build());
                counts[1]++;
                return true;
            });
            write(out, ExportRecord.newBuilder().setTrailer(ExportTrailer.newBuilder().setTurns(counts[0])
                    .setChunks(counts[1])).build());
            try {
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return counts[0] + counts[1] + 2;
        });
    }

    private static ChunkEmbeddingRecord parseEmbedding(byte[] key, byte[] value) {
        try {
            return ChunkEmbeddingRecord.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            throw RecordCodec.error(StorageException.Kind.UNPARSABLE_VALUE, ColumnFamily.CHUNK_EMBEDDINGS, key,
                    e.getMessage(), e);
        }
    }

    private static byte[] require(ColumnFamily cf, byte[] key, byte[] value) {
        if (value == null) {
            throw RecordCodec.error(StorageException.Kind.MISSING_RECORD, cf, key, "chunk record missing", null);
        }
        return value;
    }

    private static void write(OutputStream out, ExportRecord r) {
        try {
            r.writeDelimitedTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Imports a stream as the conversation {@code target} maps the key in its header to. Fails with
     * ALREADY_EXISTS if that conversation exists, BAD_EXPORT if the stream is malformed or incomplete.
     */
    ConversationInfo importFrom(InputStream in, UnaryOperator<ConversationKey> target) {
        ExportRecord first = read(in);
        if (first == null || !first.hasHeader() || first.getHeader().getFormatVersion() != FORMAT_VERSION) {
            throw bad(null, "the stream does not start with a version " + FORMAT_VERSION + " export header");
        }
        ConversationRecord source = first.getHeader().getConversation();
        ConversationKey key = target.apply(new ConversationKey(source.getTenant(), source.getConversationId()));
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try {
            if (ConversationMeta.find(ctx.db, key) != null) {
                throw new StorageException(StorageException.Kind.ALREADY_EXISTS, key.toString(),
                        ColumnFamily.CONVERSATIONS.cfName(), key.toString(), "conversation exists; forget it first",
                        null);
            }
            ImportWriter writer = new ImportWriter(ctx, key, source, BATCH_BYTES);
            try {
                for (ExportRecord r = read(in); ; r = read(in)) {
                    if (r == null) {
                        throw bad(key, "the stream ended before its trailer");
                    }
                    switch (r.getRecordCase()) {
                        case TURN -> writer.turn(r.getTurn());
                        case CHUNK -> writer.chunk(r.getChunk());
                        case TRAILER -> {
                            return writer.finish(r.getTrailer());
                        }
                        default -> throw bad(key, "unexpected record " + r.getRecordCase());
                    }
                }
            } catch (RuntimeException e) {
                writer.abort();
                throw e;
            }
        } finally {
            lock.unlock();
        }
    }

    private static ExportRecord read(InputStream in) {
        try {
            return ExportRecord.parseDelimitedFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw bad(null, "unparsable record: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static StorageException bad(ConversationKey key, String detail) {
        return new StorageException(StorageException.Kind.BAD_EXPORT, key == null ? null : key.toString(), null,
                null, detail, null);
    }
}
