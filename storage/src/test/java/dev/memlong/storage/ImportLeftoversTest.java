package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.storage.proto.ExportRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An import writes its turns and chunks in unsynced batches before the conversation record exists. If it dies
 * half-way (or its clean-up fails), that data must never become part of a later conversation with the same key.
 */
class ImportLeftoversTest {

    @TempDir
    Path dir;

    /** The export stream of a conversation with 4 messages and 3 chunks, as records. */
    static List<ExportRecord> exportedRecords(Path scratch) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ConversationStore store = TestStores.open(scratch)) {
            ConversationKey src = TestStores.create(store, "src", 1000, EvictionPolicy.FREQUENCY);
            store.commitTurn(src, TurnCommit.of("q0", 2, "a0", 3,
                    List.of(TestStores.chunk("x"), TestStores.chunk("y"))));
            store.commitTurn(src, TurnCommit.of("q1", 2, "a1", 3, List.of(TestStores.chunk("z"))));
            store.exportConversation(src, out);
        }
        List<ExportRecord> records = new ArrayList<>();
        InputStream in = new ByteArrayInputStream(out.toByteArray());
        for (ExportRecord r = ExportRecord.parseDelimitedFrom(in); r != null; r = ExportRecord.parseDelimitedFrom(in)) {
            records.add(r);
        }
        return records;
    }

    @Test
    void dataOfAnImportKilledHalfWayDoesNotComeBackInANewConversationWithTheSameKey() throws IOException {
        List<ExportRecord> records = exportedRecords(dir.resolve("src"));
        ConversationKey key = new ConversationKey("t", "reused");
        Path db = dir.resolve("db");
        try (ConversationStore store = TestStores.open(db)) {
            // an import that writes a batch after every record, then dies before its last batch (the record)
            StoreContext ctx = new StoreContext(store.rocks(), store.settings());
            ImportWriter writer = new ImportWriter(ctx, key, records.get(0).getHeader().getConversation(), 1);
            for (ExportRecord r : records.subList(1, records.size() - 1)) {
                if (r.hasTurn()) {
                    writer.turn(r.getTurn());
                } else {
                    writer.chunk(r.getChunk());
                }
            }
            // no finish(), no abort(): the process is gone
        }
        try (ConversationStore store = TestStores.open(db)) {
            assertFalse(store.conversation(key).isPresent(), "a half import is invisible");
            store.openConversation(key, new ConversationSpec(TestStores.MODEL, TestStores.LAYOUT, 1000,
                    EvictionPolicy.FREQUENCY));
            assertEquals(List.of(), store.history(key), "no leftover messages");
            assertEquals(List.of(), store.chunks(key), "no leftover chunks");
            try (RocksMemoryBank bank = store.activate(key)) {
                assertEquals(0, bank.chunkCount());
            }
            assertTrue(store.checkIntegrity(key).ok(), store.checkIntegrity(key).toString());
            CommittedTurn turn = store.commitTurn(key, TurnCommit.of("q", 1, "a", 1,
                    List.of(TestStores.chunk("mine"))));
            assertEquals(List.of(0L, 1L), turn.turnSeqs());
            assertEquals(List.of(0L), turn.chunkSeqs());
            assertEquals(List.of("q", "a"), store.history(key).stream().map(Turn::text).toList());
            assertEquals(List.of("mine"), store.chunks(key).stream().map(ChunkSummary::text).toList());
        }
        try (ConversationStore store = TestStores.open(db)) { // and durably so
            assertEquals(2, store.history(key).size());
            assertEquals(1, store.activate(key).chunkCount());
            assertTrue(store.checkIntegrity(key).ok());
        }
    }

    @Test
    void integrityCheckReportsRecordsAtOrPastTheNextSeqs() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of(TestStores.chunk("c0"))));
            assertTrue(store.checkIntegrity(key).ok());
            byte[] prefix = StoreKeys.conversation(key);
            try (StoreBatch b = new StoreBatch(store.rocks())) { // what a leftover looks like: past the counters
                b.put(ColumnFamily.TURNS, StoreKeys.item(prefix, 5),
                        Records.turn(5, new TurnMessage(Role.USER, "stray", 1), 0).toByteArray());
                b.put(ColumnFamily.CHUNK_EMBEDDINGS, StoreKeys.item(prefix, 3),
                        Records.embedding(new float[TestStores.LAYOUT.embeddingDim()]).toByteArray());
                store.rocks().write(b, false);
            }
            IntegrityReport report = store.checkIntegrity(key);
            assertEquals(List.of(5L), report.strayTurnSeqs());
            assertEquals(List.of(3L), report.strayChunkSeqs());
            assertFalse(report.ok());
        }
    }
}
