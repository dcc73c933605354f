package dev.memlong.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forgetting a conversation removes its bytes from the disk, not only from the key space: its K/V lives in blob
 * files shared with other conversations, which deleting keys and compacting SST files alone leaves behind.
 */
class ForgetErasureTest {

    /** 4 heads x 64 dims x fp16 x 32 tokens = 16 KiB of keys per chunk: above the blob threshold (4 KiB). */
    private static final KvLayout LAYOUT = new KvLayout(4, 64, KvDType.FP16, 16);
    private static final int TOKENS = 32;
    /** ASCII: every byte pair is a finite fp16 value, and the text appears nowhere else in the store. */
    private static final String SECRET = "FORGET-ME-SECRET";
    private static final String KEEP = "KEEP-THIS-VALUE!";

    @TempDir
    Path dir;

    @Test
    void forgottenKvLeavesEveryFileOfTheStoreWhileOtherConversationsKeepTheirs() throws IOException {
        ConversationKey gone = new ConversationKey("t", "gone");
        ConversationKey kept = new ConversationKey("t", "kept");
        try (ConversationStore store = TestStores.open(dir)) {
            for (ConversationKey key : List.of(gone, kept)) {
                store.openConversation(key, new ConversationSpec("m", LAYOUT, 1 << 20, EvictionPolicy.FIFO));
            }
            // interleaved, so both conversations' K/V share the same blob files
            for (int i = 0; i < 4; i++) {
                store.commitTurn(gone, TurnCommit.of("q", 1, "a", 1, List.of(chunk(SECRET))));
                store.commitTurn(kept, TurnCommit.of("q", 1, "a", 1, List.of(chunk(KEEP))));
            }
            store.saveWindow(gone, window(SECRET));
            store.rocks().flush(); // written long ago: in SST and blob files, not only in the memtable and WAL
            assertTrue(filesHolding(SECRET).size() > 0, "the test's pattern is found where it was written");

            assertTrue(store.forget(gone));
            assertTrue(store.awaitForgottenBytesErased(Duration.ofSeconds(60)), "the background erase ran");

            assertEquals(List.of(), filesHolding(SECRET), "files still holding the forgotten K/V");
            assertTrue(filesHolding(KEEP).size() > 0);
            assertEquals(4, store.chunks(kept).size());
        }
        try (ConversationStore store = TestStores.open(dir)) { // and the other conversation reads back intact
            RocksMemoryBank bank = store.activate(kept);
            assertEquals(4, bank.chunkCount());
            bank.close();
        }
        assertEquals(List.of(), filesHolding(SECRET), "after reopening (WAL replayed, obsolete files purged)");
    }

    @Test
    void forgottenWritesLeaveTheWriteAheadLog() throws IOException {
        ConversationKey gone = new ConversationKey("t", "gone");
        try (ConversationStore store = TestStores.open(dir)) {
            store.openConversation(gone, new ConversationSpec("m", LAYOUT, 1 << 20, EvictionPolicy.FIFO));
            store.commitTurn(gone, TurnCommit.of("q", 1, "a", 1, List.of(chunk(SECRET))));
            // another column family with unflushed writes in the same log: it alone would keep the log alive
            store.putModelVersion(new ModelVersion("m", 1, 0, "v1", 1, 0, "lora", List.of(), 0, 0, 0, 0, 0));
            assertTrue(filesHolding(SECRET).stream().anyMatch(f -> f.toString().endsWith(".log")),
                    "not flushed yet: the K/V is in the write-ahead log");

            assertTrue(store.forget(gone));
            assertTrue(store.awaitForgottenBytesErased(Duration.ofSeconds(60)), "the background erase ran");

            assertEquals(List.of(), filesHolding(SECRET));
            assertTrue(store.modelVersion("m", 1).isPresent());
        }
    }

    @Test
    void everyForgetIsErasedNotOnlyTheFirst() throws IOException {
        // the eraser coalesces requests on a queued pass: after a pass has run, the next forget must get its own
        try (ConversationStore store = TestStores.open(dir)) {
            for (int round = 0; round < 5; round++) {
                String secret = "FORGET-ROUND-" + round + "!!";
                ConversationKey gone = new ConversationKey("t", "gone-" + round);
                store.openConversation(gone, new ConversationSpec("m", LAYOUT, 1 << 20, EvictionPolicy.FIFO));
                store.commitTurn(gone, TurnCommit.of("q", 1, "a", 1, List.of(chunk(secret))));
                store.rocks().flush();
                assertTrue(filesHolding(secret).size() > 0, "round " + round + ": written");
                assertTrue(store.forget(gone));
                assertTrue(store.awaitForgottenBytesErased(Duration.ofSeconds(60)));
                assertEquals(List.of(), filesHolding(secret), "round " + round + ": erased");
            }
        }
    }

    private static NewChunk chunk(String pattern) {
        byte[] kv = fill(pattern, TOKENS * LAYOUT.kvHeads() * LAYOUT.headDim() * 2);
        int[] ids = new int[TOKENS];
        Arrays.fill(ids, 7);
        float[] embedding = new float[LAYOUT.embeddingDim()];
        embedding[0] = 1;
        return new NewChunk(ids, "chunk text", embedding, kv, kv.clone());
    }

    private static SavedWindow window(String pattern) {
        return new SavedWindow("model-a", 0, new int[] {1, 2, 3}, -1, fill(pattern, 16 * 1024));
    }

    private static byte[] fill(String pattern, int length) {
        byte[] p = pattern.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = p[i % p.length];
        }
        return out;
    }

    private List<Path> filesHolding(String pattern) throws IOException {
        byte[] needle = pattern.getBytes(StandardCharsets.US_ASCII);
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(f -> contains(read(f), needle)).toList();
        }
    }

    private static byte[] read(Path f) {
        try {
            return Files.readAllBytes(f);
        } catch (IOException e) { // a file RocksDB deleted while the walk went on
            return new byte[0];
        }
    }

    private static boolean contains(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
