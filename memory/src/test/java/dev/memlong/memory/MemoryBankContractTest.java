package dev.memlong.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link MemoryBank} contract, for every implementation: extend it and create the bank in {@link #newBank}.
 * Expected values are computed directly in the tests (brute-force search, hand-worked eviction), never by the
 * bank's own helpers. Published in the memory module's test-jar.
 */
public abstract class MemoryBankContractTest {

    /** 2 KV heads of 4 dims in fp16 (16 bytes of keys per token), 8-d embeddings. */
    protected static final KvLayout LAYOUT = new KvLayout(2, 4, KvDType.FP16, 8);
    private static final long LARGE = 1_000_000;

    private final List<MemoryBank> opened = new ArrayList<>();

    /** A new, empty bank; the contract test closes it. */
    protected abstract MemoryBank newBank(KvLayout layout, long capacityTokens, EvictionPolicy policy);

    private MemoryBank bank(long capacity, EvictionPolicy policy) {
        MemoryBank b = newBank(LAYOUT, capacity, policy);
        opened.add(b);
        return b;
    }

    @AfterEach
    void closeBanks() {
        opened.forEach(MemoryBank::close);
    }

    /** A chunk of {@code tokens} tokens whose ids, text and K/V bytes all derive from {@code tag}. */
    protected static NewChunk chunk(int tag, int tokens, float[] embedding) {
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = tag * 1000 + i;
        }
        byte[] keys = new byte[LAYOUT.kvBytes(tokens)];
        byte[] values = new byte[keys.length];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (byte) (tag * 31 + i);
            values[i] = (byte) (tag * 17 - i);
        }
        return new NewChunk(ids, "chunk " + tag, embedding, keys, values);
    }

    protected static float[] unit(int axis) {
        float[] v = new float[LAYOUT.embeddingDim()];
        v[axis % v.length] = 1f;
        return v;
    }

    private static float[] integerVector(Random rnd) {
        float[] v = new float[LAYOUT.embeddingDim()];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextInt(7) - 3; // small integers: every inner product is exact in float, ties are common
        }
        return v;
    }

    @Test
    void appendAssignsIncreasingSeqsAndCountsSizes() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FREQUENCY);
        assertEquals(0, b.chunkCount());
        assertEquals(0, b.tokenCount());
        long s0 = b.append(chunk(0, 3, unit(0)));
        long s1 = b.append(chunk(1, 5, unit(1)));
        long s2 = b.append(chunk(2, 7, unit(2)));
        assertTrue(s0 < s1 && s1 < s2, "sequence numbers increase in write order");
        assertEquals(List.of(s0, s1, s2), b.seqs());
        assertEquals(3, b.chunkCount());
        assertEquals(15, b.tokenCount());
        assertEquals(LARGE, b.capacityTokens());
        assertEquals(LAYOUT, b.layout());
        assertEquals(EvictionPolicy.FREQUENCY, b.evictionPolicy());
    }

    @Test
    void fetchReturnsStoredContentInChronologicalOrderEachOnce() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FIFO);
        List<NewChunk> written = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            NewChunk c = chunk(i, 2 + i, unit(i));
            written.add(c);
            seqs.add(b.append(c));
        }
        List<MemoryChunk> got = b.fetch(List.of(seqs.get(3), seqs.get(0), seqs.get(3), seqs.get(1), 999_999L));
        assertEquals(List.of(seqs.get(0), seqs.get(1), seqs.get(3)), got.stream().map(MemoryChunk::seq).toList());
        int[] which = {0, 1, 3};
        for (int i = 0; i < which.length; i++) {
            NewChunk c = written.get(which[i]);
            MemoryChunk m = got.get(i);
            assertArrayEquals(c.tokenIds(), m.tokenIds());
            assertEquals(c.text(), m.text());
            assertArrayEquals(c.embedding(), m.embedding());
            assertArrayEquals(c.keys(), m.keys());
            assertArrayEquals(c.values(), m.values());
            assertEquals(c.tokens(), m.tokens());
            assertEquals(0, m.retrievalCount());
        }
        assertEquals(List.of(), b.fetch(List.of()));
    }

    @Test
    void appendCopiesTheCallersArrays() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FIFO);
        NewChunk c = chunk(7, 4, unit(2));
        long seq = b.append(c);
        c.keys()[0]++;
        c.embedding()[2] = 5f;
        c.tokenIds()[0] = -1;
        MemoryChunk m = b.fetch(List.of(seq)).get(0);
        assertArrayEquals(chunk(7, 4, unit(2)).keys(), m.keys());
        assertArrayEquals(unit(2), m.embedding());
        assertEquals(7000, m.tokenIds()[0]);
    }

    @Test
    void topKEqualsBruteForceRanking() {
        Random rnd = new Random(42);
        MemoryBank b = bank(LARGE, EvictionPolicy.FREQUENCY);
        Map<Long, float[]> stored = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            float[] e = integerVector(rnd);
            stored.put(b.append(chunk(i, 1 + i % 4, e)), e);
        }
        for (int q = 0; q < 20; q++) {
            float[] query = integerVector(rnd);
            for (int k : new int[] {0, 1, 5, 8, 299, 300, 1000}) {
                List<ScoredChunk> expected = bruteForce(stored, query, k);
                List<ScoredChunk> got = b.topK(query, k);
                assertEquals(expected, got, "query " + q + ", k " + k);
            }
        }
    }

    /** Every stored chunk scored in double precision, best first, newer first on ties. */
    private static List<ScoredChunk> bruteForce(Map<Long, float[]> stored, float[] query, int k) {
        List<ScoredChunk> all = new ArrayList<>();
        stored.forEach((seq, e) -> {
            double s = 0;
            for (int i = 0; i < e.length; i++) {
                s += (double) e[i] * query[i];
            }
            all.add(new ScoredChunk(seq, (float) s));
        });
        all.sort(Comparator.comparingDouble(ScoredChunk::score).reversed()
                .thenComparing(Comparator.comparingLong(ScoredChunk::seq).reversed()));
        return all.subList(0, Math.min(k, all.size()));
    }

    @Test
    void topKBreaksTiesByNewerChunkFirst() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FREQUENCY);
        long a = b.append(chunk(0, 2, unit(1)));
        long other = b.append(chunk(1, 2, unit(2)));
        long c = b.append(chunk(2, 2, unit(1)));
        long d = b.append(chunk(3, 2, unit(1)));
        assertEquals(List.of(new ScoredChunk(d, 1f), new ScoredChunk(c, 1f)), b.topK(unit(1), 2));
        assertEquals(List.of(d, c, a, other), b.topK(unit(1), 10).stream().map(ScoredChunk::seq).toList());
        assertEquals(0f, b.topK(unit(1), 10).get(3).score());
    }

    @Test
    void topKOnAnEmptyBankIsEmpty() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FREQUENCY);
        assertEquals(List.of(), b.topK(unit(0), 8));
    }

    @Test
    void topKDoesNotCountRetrievals() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FREQUENCY);
        long s = b.append(chunk(0, 2, unit(0)));
        b.topK(unit(0), 1);
        assertEquals(0, b.fetch(List.of(s)).get(0).retrievalCount());
    }

    @Test
    void recordRetrievalCountsEachOccurrence() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FREQUENCY);
        long s0 = b.append(chunk(0, 2, unit(0)));
        long s1 = b.append(chunk(1, 2, unit(1)));
        long s2 = b.append(chunk(2, 2, unit(2)));
        b.recordRetrieval(List.of(s0, s1, s0, 12_345L));
        b.recordRetrieval(List.of(s0));
        List<MemoryChunk> got = b.fetch(List.of(s0, s1, s2));
        assertEquals(List.of(3L, 1L, 0L), got.stream().map(MemoryChunk::retrievalCount).toList());
    }

    @Test
    void clearRemovesEverythingAndSeqsKeepIncreasing() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FREQUENCY);
        long s0 = b.append(chunk(0, 4, unit(0)));
        long s1 = b.append(chunk(1, 4, unit(1)));
        b.clear();
        assertEquals(0, b.chunkCount());
        assertEquals(0, b.tokenCount());
        assertEquals(List.of(), b.seqs());
        assertEquals(List.of(), b.topK(unit(0), 8));
        assertEquals(List.of(), b.fetch(List.of(s0, s1)));
        long s2 = b.append(chunk(2, 3, unit(2)));
        assertTrue(s2 > s1, "sequence numbers are never reused");
        assertEquals(List.of(s2), b.seqs());
        assertEquals(3, b.tokenCount());
    }

    @Test
    void rejectsChunksThatDoNotMatchTheLayout() {
        MemoryBank b = bank(100, EvictionPolicy.FREQUENCY);
        NewChunk good = chunk(0, 4, unit(0));
        assertMessage(b, new NewChunk(good.tokenIds(), "x", new float[7], good.keys(), good.values()), "embedding");
        assertMessage(b, new NewChunk(good.tokenIds(), "x", good.embedding(), new byte[10], good.values()), "keys");
        assertMessage(b, new NewChunk(good.tokenIds(), "x", good.embedding(), good.keys(), new byte[10]), "values");
        float[] nan = unit(0);
        nan[3] = Float.NaN;
        assertMessage(b, new NewChunk(good.tokenIds(), "x", nan, good.keys(), good.values()), "finite");
        assertMessage(b, chunk(1, 101, unit(0)), "does not fit");
        assertEquals(0, b.chunkCount(), "rejected chunks are not stored");
        assertThrows(IllegalArgumentException.class, () -> b.topK(new float[3], 1));
        assertThrows(IllegalArgumentException.class, () -> b.topK(unit(0), -1));
    }

    private static void assertMessage(MemoryBank b, NewChunk c, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.append(c));
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should mention " + fragment);
    }

    @Test
    void closedBankRefusesWorkAndClosesTwice() {
        MemoryBank b = bank(LARGE, EvictionPolicy.FREQUENCY);
        b.append(chunk(0, 2, unit(0)));
        b.close();
        b.close();
        assertThrows(IllegalStateException.class, () -> b.append(chunk(1, 2, unit(0))));
        assertThrows(IllegalStateException.class, () -> b.topK(unit(0), 1));
        assertThrows(IllegalStateException.class, () -> b.fetch(List.of(0L)));
    }

    // ---- eviction, on constructed banks with hand-worked survivors ----

    /** 20 chunks of 10 tokens fill a bank of 200 exactly; returns their seqs. */
    private static List<Long> fillTwentyChunks(MemoryBank b) {
        List<Long> seqs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            seqs.add(b.append(chunk(i, 10, unit(i))));
        }
        assertEquals(200, b.tokenCount(), "a bank exactly at capacity evicts nothing");
        assertEquals(20, b.chunkCount());
        return seqs;
    }

    private static void retrieve(MemoryBank b, List<Long> seqs, int index, int times) {
        for (int t = 0; t < times; t++) {
            b.recordRetrieval(List.of(seqs.get(index)));
        }
    }

    @Test
    void frequencyEvictionKeepsNewestAndMostRetrieved() {
        MemoryBank b = bank(200, EvictionPolicy.FREQUENCY);
        List<Long> s = fillTwentyChunks(b);
        // Oldest 10% (chunks 0, 1) go first even though they are the most retrieved.
        retrieve(b, s, 0, 9);
        retrieve(b, s, 1, 9);
        // Middle chunks 2..18: counters 0 at 4, 9, 14; 1 at 2, 6, 11, 17; 2 at 3, 8, 13; 3 at the rest.
        int[] counts = {-1, -1, 1, 2, 0, 3, 1, 3, 2, 0, 3, 1, 3, 2, 0, 3, 3, 1, 3};
        for (int i = 2; i <= 18; i++) {
            retrieve(b, s, i, counts[i]);
        }
        // Chunk 19 has counter 0 but is in the newest 10% with the new chunk 20.
        long s20 = b.append(chunk(20, 10, unit(3)));
        // 210 tokens > 200: evict to <= 100, i.e. 11 chunks: 0, 1, then the 9 least-retrieved of the middle
        // (4, 9, 14 | 2, 6, 11, 17 | 3, 8 - the two oldest with counter 2).
        List<Long> expected = new ArrayList<>();
        for (int i : new int[] {5, 7, 10, 12, 13, 15, 16, 18, 19}) {
            expected.add(s.get(i));
        }
        expected.add(s20);
        assertEquals(expected, b.seqs());
        assertEquals(100, b.tokenCount());
        assertEquals(10, b.chunkCount());
        // Survivors keep their counters; the evicted are gone from search and fetch.
        assertEquals(List.of(3L, 2L), b.fetch(List.of(s.get(5), s.get(13))).stream()
                .map(MemoryChunk::retrievalCount).toList());
        assertEquals(List.of(), b.fetch(List.of(s.get(0), s.get(4))));
        Set<Long> found = new TreeSet<>();
        b.topK(unit(0), 100).forEach(h -> found.add(h.seq()));
        assertEquals(new TreeSet<>(expected), found);
    }

    @Test
    void fifoEvictionKeepsTheNewestHalf() {
        MemoryBank b = bank(200, EvictionPolicy.FIFO);
        List<Long> s = fillTwentyChunks(b);
        retrieve(b, s, 0, 50); // counters do not matter to FIFO
        long s20 = b.append(chunk(20, 10, unit(3)));
        List<Long> expected = new ArrayList<>(s.subList(11, 20));
        expected.add(s20);
        assertEquals(expected, b.seqs());
        assertEquals(100, b.tokenCount());
    }

    @Test
    void fifoEvictionWithUnevenChunksStopsOnceHalfIsFree() {
        MemoryBank b = bank(100, EvictionPolicy.FIFO);
        b.append(chunk(0, 30, unit(0)));
        long s1 = b.append(chunk(1, 20, unit(1)));
        long s2 = b.append(chunk(2, 15, unit(2)));
        long s3 = b.append(chunk(3, 35, unit(3)));
        assertEquals(100, b.tokenCount());
        long s4 = b.append(chunk(4, 10, unit(4)));
        // 110 > 100: drop the oldest until <= 50: -30 -> 80, -20 -> 60, -15 -> 45.
        assertEquals(List.of(s3, s4), b.seqs());
        assertEquals(45, b.tokenCount());
        assertTrue(s1 < s2);
    }

    @Test
    void frequencyEvictionInASmallBankNeverEvictsTheNewChunk() {
        // 4 chunks: no oldest 10% group, only the new chunk protected; the middle goes least-retrieved first.
        MemoryBank b = bank(60, EvictionPolicy.FREQUENCY);
        long a = b.append(chunk(0, 20, unit(0)));
        long c = b.append(chunk(1, 20, unit(1)));
        long d = b.append(chunk(2, 20, unit(2)));
        b.recordRetrieval(List.of(a, a, d));
        long e = b.append(chunk(3, 25, unit(3)));
        // 85 > 60: evict to <= 30: c (counter 0) -> 65, d (1) -> 45, a (2) -> 25.
        assertEquals(List.of(e), b.seqs());
        assertEquals(25, b.tokenCount());
        assertTrue(a < c && c < d);
    }

    @Test
    void repeatedOverflowKeepsTheBankWithinCapacity() {
        for (EvictionPolicy policy : EvictionPolicy.values()) {
            MemoryBank b = bank(1000, policy);
            Random rnd = new Random(7);
            long last = -1;
            for (int i = 0; i < 500; i++) {
                last = b.append(chunk(i, 1 + rnd.nextInt(64), integerVector(rnd)));
                assertTrue(b.tokenCount() <= 1000, policy + ": over capacity after append " + i);
                List<Long> seqs = b.seqs();
                assertEquals(last, seqs.get(seqs.size() - 1), "the new chunk survives");
                assertEquals(seqs.size(), b.chunkCount());
                b.recordRetrieval(b.topK(integerVector(rnd), 3).stream().map(ScoredChunk::seq).toList());
            }
        }
    }
}
