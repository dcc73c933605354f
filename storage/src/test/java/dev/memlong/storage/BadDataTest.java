package dev.memlong.storage;

import com.google.protobuf.ByteString;
import dev.memlong.memory.EvictionPolicy;
import dev.memlong.storage.proto.ChunkKvRecord;
import dev.memlong.storage.proto.TurnRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
