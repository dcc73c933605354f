package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResourceDisciplineTest {

    @TempDir
    Path dir;

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS");
    }

    private void openUseClose() {
        ConversationStore store = TestStores.open(dir);
        ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
        RocksMemoryBank bank = store.activate(key);
        store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of(TestStores.chunk("x"))));
        bank.fetch(bank.seqs());
        store.history(key);
        store.close(); // closes the active bank too
        store.close(); // idempotent
    }

    @Test
    void twoHundredOpenCloseCyclesLeakNoFileDescriptorsOrMemory() throws IOException {
        for (int i = 0; i < 20; i++) { // warm up: classes, natives, RocksDB's static thread pools
            openUseClose();
        }
        System.gc();
        long fds = openFds();
        long rss = rssKb();
        for (int i = 0; i < 200; i++) {
            openUseClose();
        }
        System.gc();
        long fdsAfter = openFds();
        long rssAfter = rssKb();
        assertTrue(fdsAfter <= fds + 2, "open fds grew from " + fds + " to " + fdsAfter);
        assertTrue(rssAfter - rss < 96 * 1024, "RSS grew from " + rss + " kB to " + rssAfter + " kB");
    }

    @Test
    void operationsAfterCloseFailTyped() {
        ConversationStore store = TestStores.open(dir);
        ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
        store.close();
        assertEquals(StorageException.Kind.CLOSED,
                assertThrows(StorageException.class, () -> store.history(key)).kind());
        // writes build a WriteBatch on column family handles, which close() freed: this crashed the JVM (SIGSEGV)
        assertEquals(StorageException.Kind.CLOSED,
                assertThrows(StorageException.class, () -> store.setServingModelVersion("m", 1)).kind());
        assertEquals(StorageException.Kind.CLOSED,
                assertThrows(StorageException.class, () -> store.forget(key)).kind());
    }
}
