package dev.memlong.runtime.retriever;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BgeSmallRetrieverTest {

    private static OnnxBertRetriever retriever;

    @BeforeAll
    static void load() {
        retriever = BgeSmallRetriever.create();
    }

    @AfterAll
    static void close() {
        retriever.close();
    }

    private static List<String> sampleTexts() {
        List<String> texts = new ArrayList<>();
        for (SyntheticFacts.Fact f : SyntheticFacts.generate(40)) {
            texts.add(f.chunkText());
            texts.add(f.question());
        }
        texts.add("");
        texts.add("word ".repeat(700)); // longer than 512 tokens: truncated
        texts.add("Ünïcödé, emoji 🙂 and\ttabs\nnewlines.");
        return texts;
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @Test
    void vectorsAre384dAndUnitNorm() {
        assertEquals(BgeSmallRetriever.DIMENSION, retriever.dimension());
        for (float[] v : retriever.embed(sampleTexts())) {
            assertEquals(384, v.length);
            double norm = 0;
            for (float x : v) {
                norm += (double) x * x;
            }
            assertEquals(1.0, Math.sqrt(norm), 1e-5);
        }
    }

    @Test
    void sameTextGivesTheSameVectorAloneAcrossCallsAndBatchSizes() {
        List<String> texts = sampleTexts();
        float[][] all = retriever.embed(texts);
        for (int size : new int[] {1, 2, 7, 32}) {
            for (int from = 0; from < texts.size(); from += size) {
                List<String> batch = texts.subList(from, Math.min(texts.size(), from + size));
                float[][] got = retriever.embed(batch);
                for (int i = 0; i < got.length; i++) {
                    assertTrue(maxAbsDiff(all[from + i], got[i]) <= 1e-5f,
                            "text " + (from + i) + " in a batch of " + size);
                }
            }
        }
        for (int i = 0; i < texts.size(); i += 9) {
            assertTrue(maxAbsDiff(all[i], retriever.embed(texts.get(i))) <= 1e-5f, "text " + i + " alone");
        }
        assertEquals(0, retriever.embed(List.of()).length);
    }

    @Test
    void dynamicallyQuantisedModelRunsTextByText() {
        assertEquals(Batching.PER_TEXT, retriever.batching());
    }

    @Test
    void paddedBatchesOfOneAreExactAndLargerOnesClose() {
        List<String> texts = sampleTexts();
        float[][] reference = retriever.embed(texts);
        try (OnnxBertRetriever one = BgeSmallRetriever.create(
                RetrieverOptions.defaults().withBatching(Batching.PADDED, 1))) {
            float[][] got = one.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertArrayEquals(reference[i], got[i], 1e-6f, "text " + i);
            }
        }
        // Padded batches go through the attention mask; with a dynamically quantised model the activation
        // scales are shared by the batch, so vectors only agree closely (a float model agrees exactly).
        try (OnnxBertRetriever padded = BgeSmallRetriever.create(
                RetrieverOptions.defaults().withBatching(Batching.PADDED, 16))) {
            float[][] got = padded.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                assertTrue(dot(reference[i], got[i]) > 0.98f, "text " + i + ": cosine " + dot(reference[i], got[i]));
            }
        }
    }

    @Test
    void closedRetrieverRefusesWork() {
        OnnxBertRetriever r = BgeSmallRetriever.create();
        r.close();
        r.close();
        assertThrows(IllegalStateException.class, () -> r.embed("x"));
    }

    /**
     * The retrieval bar: 1,000 chunks, each stating a different fact among filler; each fact's question
     * must rank its chunk in the top 8 for at least 95% of the facts.
     */
    @Test
    void questionsFindTheirFactAmongAThousandChunks() {
        List<SyntheticFacts.Fact> facts = SyntheticFacts.generate(1000);
        List<String> texts = new ArrayList<>();
        facts.forEach(f -> texts.add(f.chunkText()));
        facts.forEach(f -> texts.add(f.question()));
        long start = System.nanoTime();
        float[][] vectors = retriever.embed(texts);
        long embedMs = (System.nanoTime() - start) / 1_000_000;

        KvLayout layout = new KvLayout(1, 1, KvDType.FP16, retriever.dimension());
        try (MemoryBank bank = new InMemoryMemoryBank(layout, 1_000_000, EvictionPolicy.FREQUENCY)) {
            List<Long> seqs = new ArrayList<>();
            for (int i = 0; i < facts.size(); i++) {
                seqs.add(bank.append(new NewChunk(new int[] {i}, texts.get(i), vectors[i], new byte[2], new byte[2])));
            }
            int hits = 0;
            for (int i = 0; i < facts.size(); i++) {
                long want = seqs.get(i);
                List<ScoredChunk> top = bank.topK(vectors[facts.size() + i], 8);
                if (top.stream().anyMatch(h -> h.seq() == want)) {
                    hits++;
                }
            }
            long[] single = new long[21];
            String query = String.join(" ", texts.subList(0, 6)); // about 100 tokens, a typical query window
            for (int i = 0; i < single.length; i++) {
                long t = System.nanoTime();
                retriever.embed(query);
                single[i] = System.nanoTime() - t;
            }
            java.util.Arrays.sort(single);
            System.out.printf("bge-small retrieval: %d/1000 facts in the top 8; embedding 2,000 texts took %d ms; "
                    + "one ~100-token query %.1f ms (median)%n", hits, embedMs, single[10] / 1e6);
            assertTrue(hits >= 950, hits + " of 1000 facts ranked in the top 8, need 950");
        }
    }

    private static float dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
