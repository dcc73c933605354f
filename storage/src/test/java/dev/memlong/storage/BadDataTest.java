package dev.memlong.storage;

import com.google.protobuf.ByteString;
import dev.memlong.memory.EvictionPolicy;
import dev.memlong.storage.proto.ChunkKvRecord;
import dev.memlong.storage.proto.ChunkRecord;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.EvictionPolicyProto;
import dev.memlong.storage.proto.KvDTypeProto;
import dev.memlong.storage.proto.RoleProto;
import dev.memlong.storage.proto.TurnRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad values fail typed, naming conversation, column family and key; the rest of the store keeps working. */
class BadDataTest {

    @TempDir
    Path dir;
    private ConversationStore store;
    private ConversationKey bad;
    private ConversationKey good;

    @BeforeEach
    void fill() {
        store = TestStores.open(dir);
        bad = TestStores.create(store, "bad", 1000, EvictionPolicy.FREQUENCY);
        good = TestStores.create(store, "good", 1000, EvictionPolicy.FREQUENCY);
        for (ConversationKey k : List.of(bad, good)) {
            store.commitTurn(k, TurnCommit.of("q", 1, "a", 1, List.of(TestStores.chunk("c0"), TestStores.chunk("c1"))));
        }
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void overwrite(ColumnFamily cf, byte[] key, byte[] value) {
        try (StoreBatch b = new StoreBatch(store.rocks())) {
            b.put(cf, key, value);
            store.rocks().write(b, false);
        }
    }

    private byte[] key(long seq) {
        return StoreKeys.item(StoreKeys.conversation(bad), seq);
    }

    private void assertGoodStillWorks() {
        assertEquals(2, store.history(good).size());
        try (RocksMemoryBank bank = store.activate(good)) {
            assertEquals(2, bank.fetch(bank.seqs()).size());
        }
    }

    private static void assertNames(StorageException e, StorageException.Kind kind, String cf, String key) {
        assertEquals(kind, e.kind(), e.getMessage());
        assertEquals("t/bad", e.conversation());
        assertEquals(cf, e.columnFamily());
        assertEquals(key, e.key());
    }

    @Test
    void unparsableChunkMetadata() {
        overwrite(ColumnFamily.CHUNKS, key(1), new byte[] {0x12, 0x7f, 0x01}); // length 127, 1 byte present
        StorageException e = assertThrows(StorageException.class, () -> store.activate(bad));
        assertNames(e, StorageException.Kind.UNPARSABLE_VALUE, "chunks", "t/bad#1");
        assertGoodStillWorks();
    }

    @Test
    void truncatedKv() {
        ChunkKvRecord kv = ChunkKvRecord.newBuilder().setSchemaVersion(1).setTokenCount(TestStores.TOKENS)
                .setKeys(ByteString.copyFrom(new byte[10])).setValues(ByteString.copyFrom(new byte[10])).build();
        overwrite(ColumnFamily.CHUNK_KV, key(0), kv.toByteArray());
        RocksMemoryBank bank = store.activate(bad);
        StorageException e = assertThrows(StorageException.class, () -> bank.fetch(List.of(0L)));
        assertNames(e, StorageException.Kind.TRUNCATED_KV, "chunk_kv", "t/bad#0");
        assertEquals(1, bank.fetch(List.of(1L)).size(), "other chunks of the same bank still readable");
        assertEquals(List.of(0L), store.checkIntegrity(bad).incompleteSeqs());
        assertGoodStillWorks();
    }

    @Test
    void kvCutMidRecord() {
        byte[] whole = store.rocks().get(ColumnFamily.CHUNK_KV, key(1));
        overwrite(ColumnFamily.CHUNK_KV, key(1), java.util.Arrays.copyOf(whole, whole.length / 2));
        RocksMemoryBank bank = store.activate(bad);
        StorageException e = assertThrows(StorageException.class, () -> bank.fetch(List.of(1L)));
        assertNames(e, StorageException.Kind.UNPARSABLE_VALUE, "chunk_kv", "t/bad#1");
        assertGoodStillWorks();
    }

    @Test
    void unknownSchemaVersion() {
        TurnRecord future = TurnRecord.newBuilder().setSchemaVersion(99).setSeq(0).setText("from the future").build();
        overwrite(ColumnFamily.TURNS, key(0), future.toByteArray());
        StorageException e = assertThrows(StorageException.class, () -> store.history(bad));
        assertNames(e, StorageException.Kind.UNKNOWN_SCHEMA_VERSION, "turns", "t/bad#0");
        assertGoodStillWorks();
    }

    @Test
    void missingEmbeddingIsReportedAsHalfWritten() {
        try (StoreBatch b = new StoreBatch(store.rocks())) {
            b.delete(ColumnFamily.CHUNK_EMBEDDINGS, key(1));
            store.rocks().write(b, false);
        }
        StorageException e = assertThrows(StorageException.class, () -> store.activate(bad));
        assertNames(e, StorageException.Kind.MISSING_RECORD, "chunk_embeddings", "t/bad#1");
        assertEquals(List.of(1L), store.checkIntegrity(bad).incompleteSeqs());
        assertGoodStillWorks();
    }

    private ChunkRecord storedChunk(long seq) {
        return RecordCodec.chunk(key(seq), store.rocks().get(ColumnFamily.CHUNKS, key(seq)));
    }

    private static void assertInvalid(StorageException e, String cf, String key, String field) {
        assertNames(e, StorageException.Kind.UNPARSABLE_VALUE, cf, key);
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }

    @Test
    void storedChunkOfNoTokensFailsActivationTyped() {
        overwrite(ColumnFamily.CHUNKS, key(1), storedChunk(1).toBuilder().clearTokenIds().build().toByteArray());
        assertInvalid(assertThrows(StorageException.class, () -> store.activate(bad)), "chunks", "t/bad#1",
                "token_ids");
        assertGoodStillWorks();
    }

    @Test
    void storedNegativeRetrievalCountFailsActivationTyped() {
        overwrite(ColumnFamily.CHUNKS, key(0), storedChunk(0).toBuilder().setRetrievalCount(-4).build().toByteArray());
        assertInvalid(assertThrows(StorageException.class, () -> store.activate(bad)), "chunks", "t/bad#0",
                "retrieval_count");
        assertGoodStillWorks();
    }

    @Test
    void storedNonFiniteEmbeddingFailsActivationTyped() {
        float[] e = new float[TestStores.LAYOUT.embeddingDim()];
        e[5] = Float.NaN;
        overwrite(ColumnFamily.CHUNK_EMBEDDINGS, key(1), Records.embedding(e).toByteArray());
        assertInvalid(assertThrows(StorageException.class, () -> store.activate(bad)), "chunk_embeddings",
                "t/bad#1", "embedding_le[5]");
        assertGoodStillWorks();
    }

    @Test
    void storedUnknownRoleFailsTypedInsteadOfReadingAsTheAssistant() {
        TurnRecord stored = RecordCodec.turn(key(0), store.rocks().get(ColumnFamily.TURNS, key(0)));
        overwrite(ColumnFamily.TURNS, key(0), stored.toBuilder().setRole(RoleProto.ROLE_UNSPECIFIED).build()
                .toByteArray());
        assertInvalid(assertThrows(StorageException.class, () -> store.history(bad)), "turns", "t/bad#0", "role");
        overwrite(ColumnFamily.TURNS, key(0), stored.toBuilder().setRoleValue(7).build().toByteArray());
        assertInvalid(assertThrows(StorageException.class, () -> store.history(bad)), "turns", "t/bad#0", "role");
        assertGoodStillWorks();
    }

    /**
     * A conversation record that parses but cannot be valid fails typed on every path that reads it (not as a
     * raw IllegalArgumentException, nor silently read as something else), and the conversation can be forgotten.
     */
    @Test
    void storedInvalidConversationRecordsFailTypedEverywhere() {
        byte[] k = StoreKeys.conversation(bad);
        ConversationRecord stored = RecordCodec.conversation(k, store.rocks().get(ColumnFamily.CONVERSATIONS, k));
        List<UnaryOperator<ConversationRecord.Builder>> changes = List.of(
                c -> c.setCapacityTokens(0),
                c -> c.setEvictionPolicy(EvictionPolicyProto.EVICTION_POLICY_UNSPECIFIED),
                c -> c.setEvictionPolicyValue(5),
                c -> c.setNextChunkSeq(Long.MAX_VALUE),
                c -> c.setNextTurnSeq(-2),
                c -> c.setLayout(c.getLayout().toBuilder().setDtype(KvDTypeProto.KV_DTYPE_UNSPECIFIED)));
        List<String> fields = List.of("capacity_tokens", "eviction_policy", "eviction_policy", "next_chunk_seq",
                "next_turn_seq", "layout");
        for (int i = 0; i < changes.size(); i++) {
            String field = fields.get(i);
            overwrite(ColumnFamily.CONVERSATIONS, k, changes.get(i).apply(stored.toBuilder()).build().toByteArray());
            List<Executable> reads = List.of(
                    () -> store.conversation(bad),
                    () -> store.conversations("t"),
                    () -> store.allConversations(),
                    () -> store.activate(bad),
                    () -> store.history(bad),
                    () -> store.checkIntegrity(bad),
                    () -> store.exportConversation(bad, new ByteArrayOutputStream()),
                    () -> store.commitTurn(bad, TurnCommit.of("q", 1, "a", 1, List.of())));
            for (var read : reads) {
                StorageException e = assertThrows(StorageException.class, read, field);
                assertNames(e, StorageException.Kind.UNPARSABLE_VALUE, "conversations", "t/bad");
                assertTrue(e.getMessage().contains(field), e.getMessage());
            }
        }
        assertTrue(store.forget(bad), "a corrupt conversation can still be forgotten");
        assertEquals(1, store.conversations("t").size());
        assertGoodStillWorks();
    }
}
