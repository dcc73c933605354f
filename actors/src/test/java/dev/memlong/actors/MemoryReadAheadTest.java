package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.actors.conversation.FaultInjector;
import dev.memlong.storage.ChunkReads;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A retrieval's chunks are read from storage off the device thread. A conversation fills its memory, the runtime
 * stops, and a new one opens the same store with an empty K/V cache: the next turn's retrievals must read their
 * chunks from RocksDB. With {@code async-embedding} on, the embedding task reads them ahead once the query is
 * embedded, so the retrieval's own fetch on the device thread reads nothing from disk (the store's counters say who
 * read what); off, the device thread reads them itself. The reply is the same either way.
 */
class MemoryReadAheadTest {

    private record Run(List<Integer> reply, int retrieved, ChunkReads reads) {}

    private static Run questionOnAColdStore(Path data, boolean async) {
        try (MemLongRuntime rt = TestRuntimes.start(data, 1, 4, 4)) {
            Conversation c = rt.conversation("t", "remembering");
            for (int i = 0; i < 4; i++) {
                c.send(TestRuntimes.message("Fact " + i + " is here.", 25, i), GenerationParams.greedy(4)
                        .withIgnoreEos(true)).join();
            }
        }
        try (MemLongRuntime rt = TestRuntimes.start(data, 1, 4, 4, "memlong.actors.async-embedding = " + async,
                FaultInjector.NONE)) {
            ChunkReads before = rt.store().chunkReads();
            Reply r = rt.conversation("t", "remembering").send("What was fact 2?",
                    GenerationParams.greedy(24).withIgnoreEos(true)).join();
            ChunkReads after = rt.store().chunkReads();
            return new Run(r.tokenIds(), r.retrieved().size(), new ChunkReads(
                    after.fetchedFromCache() - before.fetchedFromCache(),
                    after.fetchedFromDisk() - before.fetchedFromDisk(), after.readAhead() - before.readAhead()));
        }
    }

    @Test
    void theDeviceThreadFindsARetrievalsChunksReadAhead(@TempDir Path dir) {
        Run ahead = questionOnAColdStore(dir.resolve("async"), true);
        Run inline = questionOnAColdStore(dir.resolve("inline"), false);
        System.out.println("chunk reads for the question (async, inline): " + ahead.reads() + ", " + inline.reads());
        assertTrue(ahead.retrieved() > 0 && inline.retrieved() > 0, "the reply retrieved memory");
        assertEquals(inline.reply(), ahead.reply(), "the same reply either way");
        assertTrue(inline.reads().fetchedFromDisk() > 0 && inline.reads().readAhead() == 0,
                "inline, the device thread reads the cold chunks itself: " + inline.reads());
        assertTrue(ahead.reads().readAhead() > 0, "the chunks were read ahead: " + ahead.reads());
        assertEquals(0, ahead.reads().fetchedFromDisk(), "the retrievals' fetches found everything read ahead: "
                + ahead.reads());
        assertTrue(ahead.reads().fetchedFromCache() > 0, ahead.reads().toString());
    }
}
