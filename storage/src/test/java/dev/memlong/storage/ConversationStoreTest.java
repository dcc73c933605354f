package dev.memlong.storage;

import com.typesafe.config.ConfigFactory;
import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.MemorySettings;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.NewChunk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConversationStoreTest {

    @TempDir
    Path dir;

    private static TurnCommit turn(int i, NewChunk... chunks) {
        return TurnCommit.of("question " + i, 2, "answer " + i, 3, List.of(chunks));
    }

    @Test
    void commitsTurnsWithChunksAndReadsThemBack() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            CommittedTurn t0 = store.commitTurn(key, turn(0, TestStores.chunk("a"), TestStores.chunk("b")));
            CommittedTurn t1 = store.commitTurn(key, turn(1));
            assertEquals(List.of(0L, 1L), t0.turnSeqs());
            assertEquals(List.of(0L, 1L), t0.chunkSeqs());
            assertEquals(List.of(2L, 3L), t1.turnSeqs());
            List<Turn> history = store.history(key);
            assertEquals(List.of("question 0", "answer 0", "question 1", "answer 1"),
                    history.stream().map(Turn::text).toList());
            assertEquals(List.of(Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT),
                    history.stream().map(Turn::role).toList());
            assertEquals(List.of("a", "b"), store.chunks(key).stream().map(ChunkSummary::text).toList());
            ConversationInfo info = store.conversation(key).orElseThrow();
            assertEquals(4, info.turnCount());
            assertEquals(2, info.chunkCount());
            assertEquals(16, info.tokenCount());
            assertEquals(2, store.history(key, 2, 10).size());
            // a bank activated afterwards sees the committed chunks; one active during a commit is updated
            try (RocksMemoryBank bank = store.activate(key)) {
                assertEquals(List.of(0L, 1L), bank.seqs());
                store.commitTurn(key, turn(2, TestStores.chunk("c")));
                assertEquals(List.of(0L, 1L, 2L), bank.seqs());
                assertEquals("c", bank.fetch(List.of(2L)).get(0).text());
            }
            assertTrue(store.checkIntegrity(key).ok());
        }
    }

    @Test
    void pendingRetrievalCountersGoInTheNextTurnBatch() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            store.commitTurn(key, turn(0, TestStores.chunk("a"), TestStores.chunk("b")));
            RocksMemoryBank bank = store.activate(key);
            bank.recordRetrieval(List.of(1L, 1L)); // once per occurrence (MemoryBank.recordRetrieval)
            assertEquals(List.of(0L, 0L), store.chunks(key).stream().map(ChunkSummary::retrievalCount).toList());
            store.commitTurn(key, turn(1));
            assertEquals(List.of(0L, 2L), store.chunks(key).stream().map(ChunkSummary::retrievalCount).toList());
        }
    }

    @Test
    void turnsAndChunksSurviveReopen() {
        ConversationKey key;
        try (ConversationStore store = TestStores.open(dir)) {
            key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            store.appendTurn(key, new TurnMessage(Role.SYSTEM, "be brief", 2));
            store.commitTurn(key, turn(0, TestStores.chunk("a")));
        }
        try (ConversationStore store = TestStores.open(dir)) {
            assertEquals(3, store.history(key).size());
            assertEquals(Role.SYSTEM, store.history(key).get(0).role());
            MemoryChunk c = store.activate(key).fetch(List.of(0L)).get(0);
            assertArrayEquals(TestStores.chunk("a").keys(), c.keys());
        }
    }

    /**
     * A bank records the retriever that embedded it: reopened with another one of the same dimension (another
     * lexical weight, another model) it is refused, before any search could compare vectors that do not compare,
     * and nothing stored changes; a bank from before embedders were recorded opens on its shape alone, and across a
     * restart the recorded id is what is checked.
     */
    @Test
    void reopeningWithAnotherRetrieverOfTheSameDimensionFailsTyped() {
        KvLayout byA = TestStores.LAYOUT.withEmbedder("bge-small/cls/512/384+words(weight=0.5)");
        KvLayout byB = TestStores.LAYOUT.withEmbedder("bge-small/cls/512/384+words(weight=0.7)");
        ConversationKey key = new ConversationKey("t", "embedded");
        ConversationKey legacy = new ConversationKey("t", "legacy");
        try (ConversationStore store = TestStores.open(dir)) {
            store.openConversation(key, new ConversationSpec(TestStores.MODEL, byA, 1000, EvictionPolicy.FREQUENCY));
            store.commitTurn(key, turn(0, TestStores.chunk("a")));
            store.openConversation(legacy, new ConversationSpec(TestStores.MODEL, TestStores.LAYOUT, 1000,
                    EvictionPolicy.FREQUENCY));
        }
        try (ConversationStore store = TestStores.open(dir)) {
            StorageException e = assertThrows(StorageException.class,
                    () -> store.openConversation(key, ConversationSpec.of(TestStores.MODEL, byB)));
            assertEquals(StorageException.Kind.LAYOUT_MISMATCH, e.kind());
            assertTrue(e.getMessage().contains("weight=0.5") && e.getMessage().contains("weight=0.7"), e.getMessage());
            ConversationInfo info = store.openConversation(key, ConversationSpec.of(TestStores.MODEL, byA));
            assertEquals(1, info.chunkCount());
            assertEquals(byA.embedder(), info.layout().embedder());
            assertArrayEquals(TestStores.chunk("a").keys(), store.activate(key).fetch(List.of(0L)).get(0).keys());
            assertEquals(1000, store.openConversation(legacy, ConversationSpec.of(TestStores.MODEL, byB))
                    .capacityTokens());
        }
    }

    @Test
    void reopeningWithAnotherLayoutOrModelFailsTyped() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            KvLayout other = new KvLayout(4, 8, KvDType.FP16, 16);
            StorageException e = assertThrows(StorageException.class,
                    () -> store.openConversation(key, ConversationSpec.of(TestStores.MODEL, other)));
            assertEquals(StorageException.Kind.LAYOUT_MISMATCH, e.kind());
            assertEquals("t/c", e.conversation());
            assertEquals("conversations", e.columnFamily());
            assertEquals("t/c", e.key());
            assertEquals(StorageException.Kind.MODEL_MISMATCH, assertThrows(StorageException.class,
                    () -> store.openConversation(key, ConversationSpec.of("other", TestStores.LAYOUT))).kind());
            assertEquals(1000, store.openConversation(key, ConversationSpec.of(TestStores.MODEL, TestStores.LAYOUT))
                    .capacityTokens());
        }
    }

    @Test
    void aNewConversationTakesMemorysCapacityAndEvictionAndAnExistingOneKeepsItsOwn() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationInfo info = store.openConversation(ConversationKey.of("d"),
                    ConversationSpec.of(TestStores.MODEL, TestStores.LAYOUT));
            assertEquals(MemorySettings.DEFAULT_CAPACITY_TOKENS, info.capacityTokens(), "memory's reference default");
            assertEquals(EvictionPolicy.FREQUENCY, info.eviction());
            assertEquals("default", info.key().tenant());

            // what the runtime does: memlong.memory as the user configured it
            MemorySettings memory = MemorySettings.fromConfig(ConfigFactory.parseString(
                    "memlong.memory { capacity-tokens = 4096, eviction = fifo }"), 26, 2048);
            ConversationInfo created = store.openConversation(ConversationKey.of("e"),
                    ConversationSpec.of(TestStores.MODEL, TestStores.LAYOUT, memory));
            assertEquals(4096, created.capacityTokens());
            assertEquals(EvictionPolicy.FIFO, created.eviction());
            assertEquals(4096, store.activate(ConversationKey.of("e")).capacityTokens(), "the bank evicts at it");

            ConversationInfo reopened = store.openConversation(ConversationKey.of("d"),
                    ConversationSpec.of(TestStores.MODEL, TestStores.LAYOUT, memory));
            assertEquals(MemorySettings.DEFAULT_CAPACITY_TOKENS, reopened.capacityTokens(), "stored capacity stays");
            assertEquals(EvictionPolicy.FREQUENCY, reopened.eviction());
        }
    }

    @Test
    void historyLimitIsAnUpperBound() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            store.commitTurn(key, turn(0));
            store.commitTurn(key, turn(1));
            assertEquals(List.of(), store.history(key, 0, 0), "a limit of 0 reads nothing");
            assertEquals(List.of(1L, 2L), store.history(key, 1, 2).stream().map(Turn::seq).toList());
            assertEquals(List.of(3L), store.history(key, 3, 10).stream().map(Turn::seq).toList());
            assertThrows(IllegalArgumentException.class, () -> store.history(key, 0, -1));
        }
    }

    @Test
    void forgetRemovesEveryRecordOfOneConversationOnly() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey gone = TestStores.create(store, "gone", 1000, EvictionPolicy.FREQUENCY);
            ConversationKey kept = TestStores.create(store, "gone-not", 1000, EvictionPolicy.FREQUENCY);
            RocksMemoryBank bank = store.activate(gone);
            store.commitTurn(gone, turn(0, TestStores.chunk("secret")));
            store.commitTurn(kept, turn(0, TestStores.chunk("kept")));
            assertTrue(store.forget(gone));
            assertFalse(store.conversation(gone).isPresent());
            assertThrows(IllegalStateException.class, () -> bank.topK(new float[16], 1));
            assertEquals(StorageException.Kind.NOT_FOUND,
                    assertThrows(StorageException.class, () -> store.history(gone)).kind());
            assertEquals(StorageException.Kind.NOT_FOUND,
                    assertThrows(StorageException.class, () -> store.activate(gone)).kind());
            byte[] prefix = StoreKeys.conversation(gone);
            for (ColumnFamily cf : ColumnFamily.CONVERSATION_DATA) {
                int[] n = {0};
                store.rocks().scan(cf, prefix, StoreKeys.upperBound(prefix), null, (k, v) -> ++n[0] > 0);
                assertEquals(0, n[0], cf.cfName());
            }
            assertEquals(1, store.chunks(kept).size());
            assertEquals(2, store.history(kept).size());
            assertFalse(store.forget(gone));
        }
    }

    @Test
    void exportImportRoundTripsUnderAnotherKey() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ConversationKey src;
        try (ConversationStore store = TestStores.open(dir.resolve("a"))) {
            src = TestStores.create(store, "src", 1000, EvictionPolicy.FIFO);
            store.commitTurn(src, turn(0, TestStores.chunk("x"), TestStores.chunk("y")));
            store.commitTurn(src, turn(1, TestStores.chunk("z")));
            assertEquals(2 + 4 + 3, store.exportConversation(src, out));
        }
        ConversationKey dst = new ConversationKey("other", "moved");
        try (ConversationStore store = TestStores.open(dir.resolve("b"))) {
            ConversationInfo info = store.importConversation(new ByteArrayInputStream(out.toByteArray()), dst);
            assertEquals(3, info.chunkCount());
            assertEquals(EvictionPolicy.FIFO, info.eviction());
            assertEquals(4, store.history(dst).size());
            RocksMemoryBank bank = store.activate(dst);
            assertArrayEquals(TestStores.chunk("z").values(), bank.fetch(List.of(2L)).get(0).values());
            assertEquals(List.of(4L, 5L), store.commitTurn(dst, turn(2)).turnSeqs());
            assertEquals(List.of(3L), store.commitTurn(dst, turn(3, TestStores.chunk("w"))).chunkSeqs());
            assertEquals(StorageException.Kind.ALREADY_EXISTS, assertThrows(StorageException.class,
                    () -> store.importConversation(new ByteArrayInputStream(out.toByteArray()), dst)).kind());
            // a truncated stream fails and leaves nothing behind
            byte[] cut = Arrays.copyOf(out.toByteArray(), out.size() - 40);
            ConversationKey half = new ConversationKey("other", "half");
            assertEquals(StorageException.Kind.BAD_EXPORT, assertThrows(StorageException.class,
                    () -> store.importConversation(new ByteArrayInputStream(cut), half)).kind());
            assertFalse(store.conversation(half).isPresent());
            assertTrue(store.checkIntegrity(dst).ok());
        }
    }

    @Test
    void checkpointIsAConsistentOpenableCopy() {
        Path copy = dir.resolve("backup");
        ConversationKey key;
        try (ConversationStore store = TestStores.open(dir.resolve("live"))) {
            key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            store.commitTurn(key, turn(0, TestStores.chunk("a")));
            store.checkpoint(copy);
            store.commitTurn(key, turn(1));
        }
        try (ConversationStore backup = TestStores.open(copy)) {
            assertEquals(2, backup.history(key).size());
            assertEquals(1, backup.activate(key).chunkCount());
        }
    }

    private static ModelVersion version(String model, long v, String artifact) {
        return new ModelVersion(model, v, v - 1, artifact, v * 10, 1, "lora", List.of(), 3.0, 2.5, 1000, 100, 4);
    }

    @Test
    void modelVersionsAndOptOut() {
        try (ConversationStore store = TestStores.open(dir)) {
            store.putModelVersion(version("m", 2, "lora-2"));
            store.putModelVersion(version("m", 1, "lora-1"));
            store.putModelVersion(version("mm", 9, "x"));
            assertEquals(List.of(1L, 2L), store.modelVersions("m").stream().map(ModelVersion::version).toList());
            assertEquals("lora-2", store.latestModelVersion("m").orElseThrow().artifact());
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            store.setTrainingOptOut(key, true);
            assertTrue(store.conversation(key).orElseThrow().trainingOptOut());
            assertEquals(1, store.conversations("t").size());
            assertEquals(0, store.conversations("tt").size());
        }
    }
}
