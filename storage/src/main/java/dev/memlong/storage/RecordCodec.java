package dev.memlong.storage;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import dev.memlong.memory.KvLayout;
import dev.memlong.storage.proto.ChunkEmbeddingRecord;
import dev.memlong.storage.proto.ChunkKvRecord;
import dev.memlong.storage.proto.ChunkRecord;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.ModelVersionRecord;
import dev.memlong.storage.proto.ServingVersionRecord;
import dev.memlong.storage.proto.TurnRecord;
import dev.memlong.storage.proto.WindowRecord;

import java.util.function.ToIntFunction;

/**
 * Decodes stored values, turning every kind of bad data into a typed {@link StorageException} that names the
 * conversation, column family and key: unparsable bytes, an unknown schema version, a value no valid record holds
 * ({@link RecordChecks}: an unknown enum, a chunk of no tokens, a NaN embedding...), K/V or embedding bytes of the
 * wrong size. Every stored conversation, turn, chunk and embedding is read through here, so the rest of the
 * module never meets an invalid one.
 */
final class RecordCodec {

    /** The schema version this build writes; it reads 1..SCHEMA_VERSION. */
    static final int SCHEMA_VERSION = 1;

    private RecordCodec() {}

    static ConversationRecord conversation(byte[] key, byte[] value) {
        ConversationRecord r = parse(ColumnFamily.CONVERSATIONS, key, value, ConversationRecord.parser(),
                ConversationRecord::getSchemaVersion);
        requireValid(ColumnFamily.CONVERSATIONS, key, RecordChecks.conversation(r));
        return r;
    }

    static TurnRecord turn(byte[] key, byte[] value) {
        TurnRecord r = parse(ColumnFamily.TURNS, key, value, TurnRecord.parser(), TurnRecord::getSchemaVersion);
        requireValid(ColumnFamily.TURNS, key, RecordChecks.turn(r));
        return r;
    }

    static ChunkRecord chunk(byte[] key, byte[] value) {
        ChunkRecord r = parse(ColumnFamily.CHUNKS, key, value, ChunkRecord.parser(), ChunkRecord::getSchemaVersion);
        requireValid(ColumnFamily.CHUNKS, key, RecordChecks.chunk(r));
        return r;
    }

    static WindowRecord window(byte[] key, byte[] value) {
        return parse(ColumnFamily.WINDOWS, key, value, WindowRecord.parser(), WindowRecord::getSchemaVersion);
    }

    static ModelVersionRecord modelVersion(byte[] key, byte[] value) {
        return parse(ColumnFamily.MODEL_VERSIONS, key, value, ModelVersionRecord.parser(),
                ModelVersionRecord::getSchemaVersion);
    }

    static ServingVersionRecord serving(byte[] key, byte[] value) {
        return parse(ColumnFamily.MODEL_SERVING, key, value, ServingVersionRecord.parser(),
                ServingVersionRecord::getSchemaVersion);
    }

    /** Parses K/V and checks both arrays have exactly the size {@code layout} requires for its tokens. */
    static ChunkKvRecord kv(byte[] key, byte[] value, KvLayout layout, int expectedTokens) {
        ChunkKvRecord kv = parse(ColumnFamily.CHUNK_KV, key, value, ChunkKvRecord.parser(),
                ChunkKvRecord::getSchemaVersion);
        checkKv(key, kv, layout, expectedTokens);
        return kv;
    }

    static void checkKv(byte[] key, ChunkKvRecord kv, KvLayout layout, int expectedTokens) {
        int want;
        try {
            want = layout.kvBytes(expectedTokens);
        } catch (IllegalArgumentException e) { // more than 2 GiB: no stored value can hold it
            throw error(StorageException.Kind.TRUNCATED_KV, ColumnFamily.CHUNK_KV, key, e.getMessage(), e);
        }
        if (kv.getTokenCount() != expectedTokens || kv.getKeys().size() != want || kv.getValues().size() != want) {
            throw error(StorageException.Kind.TRUNCATED_KV, ColumnFamily.CHUNK_KV, key,
                    "K/V for " + kv.getTokenCount() + " tokens has " + kv.getKeys().size() + " key and "
                            + kv.getValues().size() + " value bytes; " + expectedTokens + " tokens of " + layout
                            + " need " + want + " each", null);
        }
    }

    /** Parses an embedding and checks its dimension and that its values are finite. */
    static float[] embedding(byte[] key, byte[] value, int dim) {
        ChunkEmbeddingRecord e = parse(ColumnFamily.CHUNK_EMBEDDINGS, key, value, ChunkEmbeddingRecord.parser(),
                ChunkEmbeddingRecord::getSchemaVersion);
        float[] floats = embedding(key, e, dim);
        requireValid(ColumnFamily.CHUNK_EMBEDDINGS, key, RecordChecks.embedding(floats));
        return floats;
    }

    /** An embedding's values, after checking their number only (an import checks the values as BAD_EXPORT). */
    static float[] embedding(byte[] key, ChunkEmbeddingRecord e, int dim) {
        if (e.getEmbeddingLe().size() != dim * Float.BYTES) {
            throw error(StorageException.Kind.TRUNCATED_EMBEDDING, ColumnFamily.CHUNK_EMBEDDINGS, key,
                    "embedding has " + e.getEmbeddingLe().size() + " bytes, " + dim + " floats need "
                            + dim * Float.BYTES, null);
        }
        return Records.floats(e.getEmbeddingLe());
    }

    /** Checks the schema version of a record that arrived another way (an export stream). */
    static void checkVersion(ColumnFamily cf, byte[] key, int version) {
        if (version < 1 || version > SCHEMA_VERSION) {
            throw error(StorageException.Kind.UNKNOWN_SCHEMA_VERSION, cf, key, "schema version " + version
                    + " (this build reads 1.." + SCHEMA_VERSION + ")", null);
        }
    }

    /** UNPARSABLE_VALUE when {@code problem} (from {@link RecordChecks}) is not null. */
    private static void requireValid(ColumnFamily cf, byte[] key, String problem) {
        if (problem != null) {
            throw error(StorageException.Kind.UNPARSABLE_VALUE, cf, key, "invalid record: " + problem, null);
        }
    }

    private static <T> T parse(ColumnFamily cf, byte[] key, byte[] value, Parser<T> parser,
                               ToIntFunction<T> version) {
        T record;
        try {
            CodedInputStream in = CodedInputStream.newInstance(value);
            in.enableAliasing(true); // bytes fields (K/V) alias the value instead of being copied
            record = parser.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw error(StorageException.Kind.UNPARSABLE_VALUE, cf, key,
                    "value of " + value.length + " bytes is not a valid record: " + e.getMessage(), e);
        }
        checkVersion(cf, key, version.applyAsInt(record));
        return record;
    }

    static StorageException error(StorageException.Kind kind, ColumnFamily cf, byte[] key, String detail,
                                  Throwable cause) {
        return new StorageException(kind, StoreKeys.conversationName(cf, key), cf.cfName(),
                StoreKeys.render(cf, key), detail, cause);
    }
}
