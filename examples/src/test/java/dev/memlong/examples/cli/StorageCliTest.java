package dev.memlong.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import dev.memlong.storage.ChunkSummary;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationSpec;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.RocksMemoryBank;
import dev.memlong.storage.Role;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.Turn;
import dev.memlong.storage.TurnCommit;
import dev.memlong.storage.TurnMessage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * history, memory, forget, export and import against a store written through the storage API, and
 * {@code bench storage} on a small configuration. Expected values come from what the test wrote.
 */
class StorageCliTest {

    private static final KvLayout LAYOUT = new KvLayout(2, 4, KvDType.FP16, 8);
    private static final ConversationKey MAIN = ConversationKey.of("c1");
    private static final ConversationKey OTHER_TENANT = new ConversationKey("acme", "c1");

    @TempDir
    Path dir;
    private Path data;
    /** What was written to MAIN: its turns and chunks as the store reports them. */
    private List<Turn> turns;
    private List<ChunkSummary> chunks;

    private static NewChunk chunk(int tag, int tokens) {
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = tag * 100 + i;
        }
        byte[] keys = new byte[LAYOUT.kvBytes(tokens)];
        byte[] values = new byte[keys.length];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (byte) (tag + i);
            values[i] = (byte) (tag - i);
        }
        float[] embedding = new float[LAYOUT.embeddingDim()];
        embedding[tag % embedding.length] = 1f;
        return new NewChunk(ids, "memory \"" + tag + "\"\nline two", embedding, keys, values);
    }

    @BeforeEach
    void writeStore() {
        data = dir.resolve("data");
        try (ConversationStore store = ConversationStore.open(StorageSettings.defaults()
                .withPath(data.resolve("rocksdb")).withFsync(false))) {
            for (ConversationKey key : List.of(MAIN, OTHER_TENANT)) {
                store.openConversation(key, ConversationSpec.of("test-model", LAYOUT));
            }
            store.appendTurn(MAIN, new TurnMessage(Role.SYSTEM, "be brief", 2));
            store.commitTurn(MAIN, TurnCommit.of("hello, ünïcode", 4, "hi\nthere", 3, List.of(chunk(1, 5))));
            store.commitTurn(MAIN, TurnCommit.of("second", 1, "reply", 1, List.of(chunk(2, 3), chunk(3, 7))));
            store.commitTurn(OTHER_TENANT, TurnCommit.of("acme question", 2, "acme answer", 2, List.of()));
            try (RocksMemoryBank bank = store.activate(MAIN)) {
                List<Long> seqs = bank.seqs();
                bank.recordRetrieval(List.of(seqs.get(0), seqs.get(2), seqs.get(2)));
            } // closing the bank writes its counters
            turns = store.history(MAIN);
            chunks = store.chunks(MAIN);
        }
        assertEquals(5, turns.size());
        assertEquals(List.of(1L, 0L, 2L), chunks.stream().map(ChunkSummary::retrievalCount).toList());
    }

    private static CliTest.Outcome ok(String... args) {
        CliTest.Outcome r = CliTest.run(args);
        assertEquals(0, r.exitCode(), String.join(" ", args) + ": " + r.stderr());
        return r;
    }

    private void assertHistory(List<Turn> expected, JsonNode json) {
        JsonNode rows = json.get("turns");
        assertEquals(expected.size(), rows.size());
        for (int i = 0; i < expected.size(); i++) {
            Turn t = expected.get(i);
            JsonNode row = rows.get(i);
            assertEquals(t.seq(), row.get("seq").asLong());
            assertEquals(t.role().name().toLowerCase(Locale.ROOT), row.get("role").asText());
            assertEquals(t.text(), row.get("text").asText());
            assertEquals(t.tokenCount(), row.get("tokens").asInt());
            assertEquals(t.timeMs(), row.get("time_ms").asLong());
        }
    }

    private void assertMemory(List<ChunkSummary> expected, JsonNode json) {
        JsonNode rows = json.get("chunks");
        assertEquals(expected.size(), rows.size());
        assertEquals(expected.size(), json.get("chunk_count").asInt());
        assertEquals(expected.stream().mapToLong(ChunkSummary::tokenCount).sum(), json.get("token_count").asLong());
        for (int i = 0; i < expected.size(); i++) {
            ChunkSummary c = expected.get(i);
            JsonNode row = rows.get(i);
            assertEquals(c.seq(), row.get("seq").asLong());
            assertEquals(c.tokenCount(), row.get("tokens").asInt());
            assertEquals(c.retrievalCount(), row.get("retrieval_count").asLong());
            assertEquals(c.text(), row.get("text").asText());
        }
    }

    @Test
    void historyPrintsTheTurnsWritten() throws IOException {
        JsonNode json = ok("history", "--data", data.toString(), "--conversation", "c1", "--json").json();
        assertEquals("default", json.get("tenant").asText());
        assertEquals("c1", json.get("conversation").asText());
        assertHistory(turns, json);
        assertEquals(List.of("system", "user", "assistant", "user", "assistant"),
                turns.stream().map(t -> t.role().name().toLowerCase(Locale.ROOT)).toList());

        List<String> lines = ok("history", "--data", data.toString(), "--conversation", "c1").stdout().lines().toList();
        assertEquals(5, lines.size(), "one line per message, newlines escaped");
        assertEquals(turns.get(2).seq() + " assistant: hi\\nthere", lines.get(2));
    }

    @Test
    void tenantSelectsTheConversation() throws IOException {
        JsonNode acme = ok("history", "--data", data.toString(), "--conversation", "c1", "--tenant", "acme",
                "--json").json();
        assertEquals("acme", acme.get("tenant").asText());
        assertEquals(List.of("acme question", "acme answer"), texts(acme));
        JsonNode memory = ok("memory", "--data", data.toString(), "--conversation", "c1", "--tenant", "acme").json();
        assertEquals(0, memory.get("chunks").size());
    }

    private static List<String> texts(JsonNode history) {
        List<String> out = new ArrayList<>();
        history.get("turns").forEach(t -> out.add(t.get("text").asText()));
        return out;
    }

    @Test
    void memoryPrintsTheChunksWithTheirCounters() throws IOException {
        JsonNode json = ok("memory", "--data", data.toString(), "--conversation", "c1").json();
        assertMemory(chunks, json);
        assertEquals(List.of(5, 3, 7), chunks.stream().map(ChunkSummary::tokenCount).toList());
        assertEquals("memory \"2\"\nline two", json.get("chunks").get(1).get("text").asText());
    }

    @Test
    void exportThenImportElsewhereGivesTheSameConversation() throws IOException {
        Path file = dir.resolve("c1.memlong");
        JsonNode exported = ok("export", "--data", data.toString(), "--conversation", "c1", "--out",
                file.toString()).json();
        assertEquals(1 + turns.size() + chunks.size() + 1, exported.get("records").asLong());
        assertEquals(Files.size(file), exported.get("bytes").asLong());

        Path other = dir.resolve("node2");
        Files.createDirectories(other); // a node without a store yet: import creates it
        JsonNode imported = ok("import", "--data", other.toString(), "--in", file.toString()).json();
        assertEquals("default", imported.get("tenant").asText());
        assertEquals("c1", imported.get("conversation").asText());
        assertEquals(turns.size(), imported.get("turns").asLong());
        assertEquals(chunks.size(), imported.get("chunks").asLong());
        assertHistory(turns, ok("history", "--data", other.toString(), "--conversation", "c1", "--json").json());
        assertMemory(chunks, ok("memory", "--data", other.toString(), "--conversation", "c1").json());

        // into the same store: under a new id (default tenant), or the same id under another tenant
        JsonNode copy = ok("import", "--data", data.toString(), "--in", file.toString(), "--conversation", "copy")
                .json();
        assertEquals("default", copy.get("tenant").asText());
        assertHistory(turns, ok("history", "--data", data.toString(), "--conversation", "copy", "--json").json());
        ok("import", "--data", data.toString(), "--in", file.toString(), "--tenant", "t2");
        assertMemory(chunks, ok("memory", "--data", data.toString(), "--conversation", "c1", "--tenant", "t2").json());
        // importing onto an existing conversation is refused
        assertOneLineError(CliTest.run("import", "--data", data.toString(), "--in", file.toString()), "exists");
    }

    @Test
    void forgetRemovesOnlyThatConversation() throws IOException {
        JsonNode json = ok("forget", "--data", data.toString(), "--conversation", "c1").json();
        assertTrue(json.get("forgotten").asBoolean());
        assertOneLineError(CliTest.run("history", "--data", data.toString(), "--conversation", "c1", "--json"),
                "no conversation default/c1");
        assertOneLineError(CliTest.run("memory", "--data", data.toString(), "--conversation", "c1"),
                "no conversation default/c1");
        assertEquals(List.of("acme question", "acme answer"), texts(ok("history", "--data", data.toString(),
                "--conversation", "c1", "--tenant", "acme", "--json").json()));
        try (ConversationStore store = ConversationStore.open(StorageSettings.defaults()
                .withPath(data.resolve("rocksdb")))) {
            assertTrue(store.conversation(MAIN).isEmpty());
            assertTrue(store.conversations("default").isEmpty());
        }
    }

    @Test
    void badInputExitsNonZeroWithOneLineError() throws IOException {
        String missing = dir.resolve("missing").toString();
        String d = data.toString();
        Path existing = Files.writeString(dir.resolve("existing.memlong"), "x");
        Path garbage = Files.write(dir.resolve("garbage.memlong"), new byte[] {8, 1, 2, 3, 4, 5});
        String[][] cases = {
            {"history", "--data", missing, "--conversation", "c1", "--json"},
            {"memory", "--data", missing, "--conversation", "c1"},
            {"forget", "--data", missing, "--conversation", "c1"},
            {"export", "--data", missing, "--conversation", "c1", "--out", dir.resolve("o1").toString()},
            {"import", "--data", missing, "--in", existing.toString()},
            {"history", "--data", d, "--conversation", "nope", "--json"},
            {"history", "--data", d, "--conversation", "c1", "--tenant", "nobody", "--json"},
            {"memory", "--data", d, "--conversation", "nope"},
            {"forget", "--data", d, "--conversation", "nope"},
            {"export", "--data", d, "--conversation", "nope", "--out", dir.resolve("o2").toString()},
            {"export", "--data", d, "--conversation", "c1", "--out", existing.toString()},
            {"import", "--data", d, "--in", dir.resolve("no-such-file").toString()},
            {"import", "--data", d, "--in", garbage.toString(), "--conversation", "g"},
            {"history", "--data", d, "--json"},
            {"bench", "storage", "--tokens", "1"},
        };
        for (String[] args : cases) {
            assertOneLineError(CliTest.run(args), null);
        }
        assertFalse(Files.exists(dir.resolve("o2")), "a failed export leaves no file");
        assertFalse(Files.exists(dir.resolve("missing")), "a mistyped --data creates nothing");
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".partial")));
        }
    }

    private static void assertOneLineError(CliTest.Outcome r, String fragment) {
        assertTrue(r.exitCode() != 0, "should fail: " + r.stdout());
        assertTrue(r.stdout().isEmpty(), "nothing on stdout: " + r.stdout());
        List<String> lines = r.stderr().strip().lines().toList();
        assertEquals(1, lines.stream().filter(l -> l.startsWith("error:")).count(), r.stderr());
        assertTrue(lines.get(0).startsWith("error:"), r.stderr());
        if (fragment != null) {
            assertTrue(lines.get(0).contains(fragment), lines.get(0) + " should mention " + fragment);
        }
    }

    @Test
    void benchStoragePrintsOneJsonObjectWithTheRequiredFigures() throws IOException {
        CliTest.Outcome r = ok("bench", "storage", "--json", "--dir", dir.resolve("bench").toString(), "--tokens",
                "2048", "--commit-turns", "3", "--queries", "5", "--crash-iterations", "1");
        assertEquals(1, r.stdout().strip().lines().count(), r.stdout());
        JsonNode json = r.json();
        for (String field : List.of("commit_turns_s_fsync", "commit_turns_s_nofsync", "activate_1m_tokens_ms",
                "fetch_top8_ms_p99_warm", "fetch_top8_ms_p99_cold", "disk_bytes_per_memory_token",
                "crash_iterations", "acknowledged_turns_lost")) {
            assertTrue(json.has(field) && json.get(field).isNumber(), field + " in " + json);
        }
        assertEquals(1, json.get("crash_iterations").asInt());
        assertEquals(0, json.get("acknowledged_turns_lost").asLong());
        assertTrue(json.get("acknowledged_turns").asLong() > 0);
        assertFalse(Files.exists(dir.resolve("bench")), "the scratch directory is deleted");
    }
}
