package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.storage.bench.SyntheticChunks;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What only the RocksDB bank does, beyond the shared contract ({@link RocksMemoryBankContractTest}): realistic
 * float search, durability across reopen, reads from disk with a cold cache, and turn commits of several chunks
 * evicting exactly as one-by-one appends to the in-memory bank do.
 */
class RocksMemoryBankTest {

    @TempDir
    Path dir;
    private ConversationStore store;
    private int banks;

    MemoryBank newBank(KvLayout layout, long capacityTokens, EvictionPolicy policy) {
        if (store == null) {
            store = TestStores.open(dir);
        }
        ConversationKey key = new ConversationKey("t", "bank-" + banks++);
        store.openConversation(key, new ConversationSpec("m", layout, capacityTokens, policy));
        return store.activate(key);
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    private static List<Long> appendAll(MemoryBank bank, int n) {
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            seqs.add(bank.append(TestStores.chunk("chunk " + i)));
        }
        return seqs;
    }

    /**
     * A bank of {@code chunks} appended chunks (their sequence numbers added to {@code seqs}), activated again on
     * the store reopened, so its K/V cache is empty.
     */
    private MemoryBank coldBank(int chunks, List<Long> seqs) {
        seqs.addAll(appendAll(newBank(TestStores.LAYOUT, 1_000_000, EvictionPolicy.FREQUENCY), chunks));
        store.close();
        store = TestStores.open(dir);
        return store.activate(new ConversationKey("t", "bank-0"));
    }

    /**
     * A turn commit takes the active bank under the conversation's lock and stages its write into it. Closing the
     * bank flushes and detaches it in one critical section under that lock, so a commit never finds the bank open
     * and then closed under it ("the memory bank ... is closed" from stage()). A stress test: against a close()
     * that flushed under the lock and detached after it, it failed within a second or two here.
     */
    @Test
    void closingTheBankWhileTurnsCommitNeverFailsACommit() throws Exception {
        store = TestStores.open(dir);
        ConversationKey key = new ConversationKey("t", "race");
        store.openConversation(key, new ConversationSpec("m", TestStores.LAYOUT, 1_000_000,
                EvictionPolicy.FREQUENCY));
        store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of(TestStores.chunk("c"))));
        AtomicBoolean stop = new AtomicBoolean();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> committers = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            committers.add(Thread.ofPlatform().start(() -> {
                TurnCommit message = new TurnCommit(List.of(new TurnMessage(Role.USER, "m", 1)), List.of());
                while (!stop.get()) {
                    try {
                        store.commitTurn(key, message);
                    } catch (Throwable e) {
                        failures.add(e);
                        stop.set(true);
                    }
                }
            }));
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        int cycles = 0;
        while (!stop.get() && System.nanoTime() < deadline) {
            RocksMemoryBank bank = store.activate(key);
            bank.recordRetrieval(List.of(0L)); // so close() has counters to flush
            bank.close();
            cycles++;
        }
        stop.set(true);
        for (Thread t : committers) {
            t.join();
        }
        assertEquals(List.of(), List.copyOf(failures), "after " + cycles + " activate/close cycles");
    }

    @Test
    void topKMatchesBruteForce() {
        MemoryBank bank = newBank(TestStores.LAYOUT, 1_000_000, EvictionPolicy.FREQUENCY);
        List<Long> seqs = appendAll(bank, 200);
        SplittableRandom r = new SplittableRandom(7);
        for (int q = 0; q < 20; q++) {
            float[] query = SyntheticChunks.embedding(r, TestStores.LAYOUT.embeddingDim());
            List<double[]> brute = new ArrayList<>();
            for (int i = 0; i < seqs.size(); i++) {
                float[] e = TestStores.chunk("chunk " + i).embedding();
                double s = 0;
                for (int d = 0; d < e.length; d++) {
                    s += (double) e[d] * query[d];
                }
                brute.add(new double[] {s, seqs.get(i)});
            }
            brute.sort(Comparator.comparingDouble((double[] a) -> -a[0]));
            List<ScoredChunk> hits = bank.topK(query, 8);
            assertEquals(8, hits.size());
            for (int i = 0; i < 8; i++) {
                assertEquals(brute.get(i)[0], hits.get(i).score(), 1e-4);
                assertTrue(i == 0 || hits.get(i - 1).score() >= hits.get(i).score());
            }
            assertTrue(hits.get(7).score() >= brute.get(7)[0] - 1e-4);
        }
        assertEquals(200, bank.topK(new float[16], 500).size());
    }

    @Test
    void fetchIsChronologicalSkipsUnknownAndReturnsWhatWasWritten() {
        MemoryBank bank = newBank(TestStores.LAYOUT, 1_000_000, EvictionPolicy.FREQUENCY);
        List<Long> seqs = appendAll(bank, 10);
        List<MemoryChunk> got = bank.fetch(List.of(seqs.get(7), 999L, seqs.get(2), seqs.get(5), seqs.get(2)));
        assertEquals(List.of(seqs.get(2), seqs.get(5), seqs.get(7)), got.stream().map(MemoryChunk::seq).toList());
        for (MemoryChunk c : got) {
            NewChunk want = TestStores.chunk(c.text());
            assertArrayEquals(want.keys(), c.keys());
            assertArrayEquals(want.values(), c.values());
            assertArrayEquals(want.tokenIds(), c.tokenIds());
            assertArrayEquals(want.embedding(), c.embedding());
        }
    }

    /**
     * A read-ahead by a query reads exactly the chunks a retrieval by it then fetches (the top k and each one's
     * successors, computed here from the bank's own top-k), so that fetch reads nothing from disk; and it changes
     * nothing a caller sees (no retrieval counter moves).
     */
    @Test
    void readAheadLoadsWhatTheRetrievalFetchesAndChangesNothing() {
        List<Long> seqs = new ArrayList<>();
        MemoryBank reopened = coldBank(40, seqs);
        float[] query = SyntheticChunks.embedding(new SplittableRandom(3), TestStores.LAYOUT.embeddingDim());
        java.util.TreeSet<Long> wanted = new java.util.TreeSet<>();
        for (ScoredChunk hit : reopened.topK(query, 4)) {
            wanted.add(hit.seq());
            if (seqs.contains(hit.seq() + 1)) {
                wanted.add(hit.seq() + 1);
            }
        }
        assertEquals(new ChunkReads(0, 0, 0), store.chunkReads(), "a fresh store has read nothing");

        assertEquals(wanted.size(), reopened.readAhead(query, 4, 1));
        assertEquals(new ChunkReads(0, 0, wanted.size()), store.chunkReads());
        List<MemoryChunk> got = reopened.fetch(wanted);
        assertEquals(new ChunkReads(wanted.size(), 0, wanted.size()), store.chunkReads(),
                "the retrieval's fetch found every chunk in the cache");
        for (MemoryChunk c : got) {
            assertEquals(0, c.retrievalCount(), "a read-ahead is no retrieval");
            assertArrayEquals(TestStores.chunk(c.text()).keys(), c.keys());
        }
        assertEquals(0, reopened.readAhead(query, 4, 1), "everything is cached now");
        reopened.fetch(List.of(seqs.stream().filter(s -> !wanted.contains(s)).findFirst().orElseThrow()));
        assertEquals(new ChunkReads(wanted.size(), 1, wanted.size()), store.chunkReads(), "a chunk not read ahead");

        assertThrows(IllegalArgumentException.class, () -> reopened.readAhead(new float[3], 4, 1));
        assertThrows(IllegalArgumentException.class, () -> reopened.readAhead(query, -1, 1));
        ((RocksMemoryBank) reopened).close();
        assertThrows(IllegalStateException.class, () -> reopened.readAhead(query, 4, 1));

        // without a K/V cache a read-ahead would only read everything twice: it reads nothing
        store.close();
        store = ConversationStore.open(TestStores.settings(dir).withKvCacheBytes(0));
        MemoryBank uncached = store.activate(new ConversationKey("t", "bank-0"));
        assertEquals(0, uncached.readAhead(query, 4, 1));
        uncached.fetch(wanted);
        assertEquals(new ChunkReads(0, wanted.size(), 0), store.chunkReads());
    }

    @Test
    void fetchReadsFromDiskWithAColdCacheAndWarmFetchesShareTheCachedArrays() {
        List<Long> seqs = new ArrayList<>();
        MemoryBank reopened = coldBank(10, seqs);
        List<MemoryChunk> cold = reopened.fetch(seqs.subList(3, 6));
        for (MemoryChunk c : cold) {
            NewChunk want = TestStores.chunk(c.text());
            assertArrayEquals(want.keys(), c.keys());
            assertArrayEquals(want.values(), c.values());
            assertArrayEquals(want.tokenIds(), c.tokenIds());
        }
        // warm: the same arrays again, not copies (MemoryBank.fetch forbids modifying them)
        List<MemoryChunk> warm = reopened.fetch(seqs.subList(3, 6));
        for (int i = 0; i < cold.size(); i++) {
            assertSame(cold.get(i).keys(), warm.get(i).keys());
            assertSame(cold.get(i).values(), warm.get(i).values());
        }
    }

    @Test
    void evictionKeepsTheExpectedSurvivorsAndPersistsThem() {
        // capacity 10 chunks of 8 tokens; FIFO: the 11th append evicts the 6 oldest
        MemoryBank bank = newBank(TestStores.LAYOUT, 80, EvictionPolicy.FIFO);
        List<Long> seqs = appendAll(bank, 11);
        assertEquals(seqs.subList(6, 11), bank.seqs());
        assertEquals(40, bank.tokenCount());
        assertEquals(List.of(), bank.fetch(seqs.subList(0, 6)));
        store.close();
        store = TestStores.open(dir);
        MemoryBank reopened = store.activate(new ConversationKey("t", "bank-0"));
        assertEquals(seqs.subList(6, 11), reopened.seqs());
        assertTrue(store.checkIntegrity(new ConversationKey("t", "bank-0")).ok());
    }

    @Test
    void countersSurviveReopen() {
        MemoryBank bank = newBank(TestStores.LAYOUT, 1000, EvictionPolicy.FREQUENCY);
        List<Long> seqs = appendAll(bank, 3);
        bank.recordRetrieval(List.of(seqs.get(1), seqs.get(1), seqs.get(2)));
        bank.recordRetrieval(List.of(seqs.get(1)));
        assertEquals(List.of(0L, 3L, 1L), bank.fetch(seqs).stream().map(MemoryChunk::retrievalCount).toList());
        store.close(); // writes pending counters
        store = TestStores.open(dir);
        MemoryBank reopened = store.activate(new ConversationKey("t", "bank-0"));
        assertEquals(List.of(0L, 3L, 1L), reopened.fetch(seqs).stream().map(MemoryChunk::retrievalCount).toList());
    }

    @Test
    void clearRemovesEverythingDurably() {
        MemoryBank bank = newBank(TestStores.LAYOUT, 1000, EvictionPolicy.FREQUENCY);
        appendAll(bank, 5);
        bank.clear();
        assertEquals(0, bank.chunkCount());
        assertEquals(List.of(), bank.topK(TestStores.chunk("chunk 1").embedding(), 3));
        long next = bank.append(TestStores.chunk("after"));
        assertEquals(5, next, "sequence numbers never go back");
        bank.close();
        assertEquals(1, store.activate(new ConversationKey("t", "bank-0")).chunkCount());
    }

    @Test
    void reopenAfterManyAppendsRestoresTheSameSearch() {
        MemoryBank bank = newBank(TestStores.LAYOUT, 1_000_000, EvictionPolicy.FREQUENCY);
        appendAll(bank, 50);
        float[] q = TestStores.chunk("chunk 17").embedding();
        List<ScoredChunk> before = bank.topK(q, 5);
        store.close();
        store = TestStores.open(dir);
        MemoryBank reopened = store.activate(new ConversationKey("t", "bank-0"));
        assertEquals(before, reopened.topK(q, 5));
        assertEquals(IntStream.range(0, 50).mapToObj(i -> (long) i).toList(), reopened.seqs());
    }

    @Test
    void turnCommitsOfSeveralChunksEvictAsOneByOneAppendsToTheInMemoryBank() {
        for (EvictionPolicy policy : EvictionPolicy.values()) {
            ConversationKey key = new ConversationKey("t", "turns-" + policy);
            if (store == null) {
                store = TestStores.open(dir);
            }
            store.openConversation(key, new ConversationSpec("m", TestStores.LAYOUT, 200, policy));
            RocksMemoryBank rocks = store.activate(key);
            InMemoryMemoryBank reference = new InMemoryMemoryBank(TestStores.LAYOUT, 200, policy);
            SplittableRandom r = new SplittableRandom(3);
            int n = 0;
            for (int turn = 0; turn < 60; turn++) {
                List<NewChunk> chunks = new ArrayList<>();
                for (int c = r.nextInt(4); c > 0; c--) { // 0..3 chunks of 8 tokens (25 fill the bank)
                    chunks.add(TestStores.chunk("chunk " + n++));
                }
                CommittedTurn committed = store.commitTurn(key, TurnCommit.of("u", 1, "a", 1, chunks));
                List<Long> expectedNew = new ArrayList<>();
                for (NewChunk c : chunks) {
                    expectedNew.add(reference.append(c));
                }
                assertEquals(expectedNew, committed.chunkSeqs(), "turn " + turn);
                assertEquals(reference.seqs(), rocks.seqs(), policy + ", turn " + turn);
                assertEquals(reference.tokenCount(), rocks.tokenCount());
                float[] q = SyntheticChunks.embedding(r, TestStores.LAYOUT.embeddingDim());
                List<Long> hits = reference.topK(q, 3).stream().map(ScoredChunk::seq).toList();
                reference.recordRetrieval(hits);
                rocks.recordRetrieval(hits);
            }
            assertTrue(store.checkIntegrity(key).ok());
            assertEquals(reference.seqs(), store.chunks(key).stream().map(ChunkSummary::seq).toList(),
                    "what is on disk is what RAM holds");
            reference.close();
        }
    }
}
