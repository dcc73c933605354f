package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.types.DataType;
import dev.memlong.runtime.testing.Fixtures;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java decode step ({@code VectorDecoder}) against the tensor path on the same model: batched decode steps of
 * sequences in scattered slots, of different lengths, with and without retrieved memory of different sizes (GQA
 * fixture), must give the same logits and leave the same caches. The parity tests run the Java step too (it serves
 * every decode step where available); this test isolates it.
 */
class JavaDecodeTest {

    private static final MemLongLayers LAYERS = new MemLongLayers(1, new int[] {1, 3});
    private static LlamaModel model;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(Fixtures.hfTinyLlama());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void isOnWhereTheJdkAllowsIt() {
        assumeTrue(Runtime.version().feature() >= 22, "the Java decode step needs JDK 22+");
        assertTrue(JavaDecode.available(DataType.FLOAT32), "the tests run with --add-modules jdk.incubator.vector");
        assertTrue(model.javaDecode());
    }

    @Test
    void batchedDecodeStepsEqualTheTensorPath() {
        assumeTrue(model.javaDecode(), "Java decode step not available here");
        int vocab = model.config().vocabSize();
        int[] slots = {4, 0, 2, 5};
        int[] promptLengths = {9, 3, 17, 1};
        int[] memoryTokens = {0, 6, 11, 3};
        List<float[]> javaLogits = new ArrayList<>();
        List<float[]> tensorLogits = new ArrayList<>();
        for (boolean java : new boolean[] {true, false}) {
            model.useJavaDecode(java);
            try (KvCachePool cache = model.newCache(6, 48, LAYERS)) {
                List<MemoryKv> memories = new ArrayList<>();
                for (int i = 0; i < slots.length; i++) {
                    memories.add(memoryTokens[i] == 0 ? null : memory(memoryTokens[i], 10 + i));
                    int[] prompt = new Random(100 + i).ints(promptLengths[i], 0, vocab).toArray();
                    model.forward(cache, List.of(new SequenceStep(slots[i], prompt)), false, Collections.singletonList(memories.get(i)));
                }
                Random tokens = new Random(7);
                for (int step = 0; step < 6; step++) {
                    List<SequenceStep> steps = new ArrayList<>();
                    for (int slot : slots) {
                        steps.add(new SequenceStep(slot, new int[] {tokens.nextInt(vocab)}));
                    }
                    float[][][] logits = model.forward(cache, steps, false, step % 3 == 2 ? null : memories);
                    for (float[][] l : logits) {
                        (java ? javaLogits : tensorLogits).add(l[0]);
                    }
                }
                for (int i = 0; i < slots.length; i++) {
                    assertEquals(promptLengths[i] + 6, cache.length(slots[i]));
                }
                // a one-token step after the Java steps reads the caches they wrote: the tensor path must agree
                model.useJavaDecode(false);
                float[][][] after = model.forward(cache, List.of(new SequenceStep(slots[2], new int[] {1, 2})), true);
                (java ? javaLogits : tensorLogits).add(after[0][1]);
                memories.stream().filter(m -> m != null).forEach(MemoryKv::close);
            }
        }
        model.useJavaDecode(true);
        double max = maxDiff(javaLogits, tensorLogits);
        assertTrue(max < 1e-5, "Java decode vs tensor path: max |diff| " + max);
    }

    /**
     * Prefill in rows: one forward with pieces of different lengths for several sequences (after earlier pieces, with
     * and without retrieved memory), every position's logits and the last ones only, against the tensor path; then a
     * decode step on each path reads the caches the pieces wrote.
     */
    @Test
    void prefillPiecesOfSeveralSequencesEqualTheTensorPath() {
        assumeTrue(model.javaDecode(), "Java decode step not available here");
        int vocab = model.config().vocabSize();
        int[] slots = {3, 1, 4};
        int[][] pieceLengths = {{5, 7}, {1, 4}, {9, 1}};
        int[] memoryTokens = {4, 0, 9};
        List<float[]> javaLogits = new ArrayList<>();
        List<float[]> tensorLogits = new ArrayList<>();
        for (boolean java : new boolean[] {true, false}) {
            model.useJavaDecode(java);
            List<float[]> out = java ? javaLogits : tensorLogits;
            try (KvCachePool cache = model.newCache(5, 40, LAYERS)) {
                List<MemoryKv> memories = new ArrayList<>();
                for (int i = 0; i < slots.length; i++) {
                    memories.add(memoryTokens[i] == 0 ? null : memory(memoryTokens[i], 50 + i));
                }
                Random tokens = new Random(11);
                for (int piece = 0; piece < 2; piece++) {
                    List<SequenceStep> steps = new ArrayList<>();
                    for (int i = 0; i < slots.length; i++) {
                        steps.add(new SequenceStep(slots[i], tokens.ints(pieceLengths[i][piece], 0, vocab).toArray()));
                    }
                    boolean allPositions = piece == 0;
                    float[][][] logits = model.forward(cache, steps, allPositions, memories);
                    for (int i = 0; i < slots.length; i++) {
                        assertEquals(allPositions ? pieceLengths[i][piece] : 1, logits[i].length);
                        out.addAll(List.of(logits[i]));
                    }
                }
                List<SequenceStep> decode = new ArrayList<>();
                for (int slot : slots) {
                    decode.add(new SequenceStep(slot, new int[] {tokens.nextInt(vocab)}));
                }
                for (float[][] l : model.forward(cache, decode, false, memories)) {
                    out.add(l[0]);
                }
                for (int i = 0; i < slots.length; i++) {
                    assertEquals(pieceLengths[i][0] + pieceLengths[i][1] + 1, cache.length(slots[i]));
                }
                memories.stream().filter(m -> m != null).forEach(MemoryKv::close);
            }
        }
        model.useJavaDecode(true);
        double max = maxDiff(javaLogits, tensorLogits);
        assertTrue(max < 1e-5, "Java prefill vs tensor path: max |diff| " + max);
    }

    /** A window shift in Java leaves the caches bit for bit as the tensor path's does (and then decodes the same). */
    @Test
    void windowShiftEqualsTheTensorPathBitForBit() {
        assumeTrue(model.javaDecode(), "Java decode step not available here");
        assertShiftMatchesTheTensorPath(model, LAYERS);
    }

    /**
     * The same with heads of 32 (the Mistral fixture): the fixture above has heads of 16, whose halves of 8 are shorter
     * than a 512-bit vector, so only this one runs the shift's vector loop on an AVX-512 machine (the benchmark model's
     * heads of 64 do).
     */
    @Test
    void windowShiftEqualsTheTensorPathBitForBitWithWiderHeads() {
        assumeTrue(model.javaDecode(), "Java decode step not available here");
        try (LlamaModel wide = LlamaModel.load(Fixtures.root().resolve("hf-tiny-mistral"))) {
            assertEquals(32, wide.config().headDim());
            assertShiftMatchesTheTensorPath(wide, new MemLongLayers(1, new int[] {1}));
        }
    }

    /**
     * Shifts 12 of slot 1's 30 tokens (slots 0 and 2 hold others) in Java and on the tensor path, from the same caches:
     * the leaving memory-layer K/V, every cache array and the next step's logits must be bit for bit equal.
     */
    private static void assertShiftMatchesTheTensorPath(LlamaModel model, MemLongLayers layers) {
        int vocab = model.config().vocabSize();
        int[] prompt = new Random(21).ints(30, 0, vocab).toArray();
        List<float[]> caches = new ArrayList<>();
        List<float[]> logits = new ArrayList<>();
        for (boolean java : new boolean[] {true, false}) {
            model.useJavaDecode(false); // the same caches before the shift: only the shift's path differs
            try (KvCachePool cache = model.newCache(3, 40, layers)) {
                model.forward(cache, List.of(new SequenceStep(0, new int[] {5, 6, 7})), false);
                model.forward(cache, List.of(new SequenceStep(2, new int[] {8, 9})), false);
                model.forward(cache, List.of(new SequenceStep(1, prompt)), false);
                model.useJavaDecode(java);
                EvictedWindow evicted = model.shiftWindow(cache, 1, 12);
                model.useJavaDecode(false);
                caches.add(evicted.keys());
                caches.add(evicted.values());
                for (int i = 0; i < model.config().numLayers(); i++) {
                    caches.add(cache.keys(i).toFloatArray());
                    caches.add(cache.values(i).toFloatArray());
                }
                caches.add(cache.memoryLayerKeys().toFloatArray());
                assertEquals(18, cache.length(1));
                logits.add(model.forward(cache, List.of(new SequenceStep(1, new int[] {3})), false)[0][0]);
            }
        }
        model.useJavaDecode(true);
        int half = caches.size() / 2;
        for (int i = 0; i < half; i++) {
            assertTrue(java.util.Arrays.equals(caches.get(i), caches.get(half + i)), "array " + i + " differs");
        }
        assertTrue(java.util.Arrays.equals(logits.get(0), logits.get(1)), "the next step's logits differ");
    }

    /**
     * The packed products (the default) against products reading PyTorch's arrays in place, at a batch of 11 rows
     * (micro-kernels of 8, 2 and 1 rows; the fixture's widths 64, 176 and 600 leave partial panels); and a sequence's
     * logits are bit for bit the same in the batch as alone.
     */
    @Test
    void packedProductsAgreeWithInPlaceOnesAndRowsDoNotDependOnTheirNeighbours() {
        assumeTrue(model.javaDecode(), "Java decode step not available here");
        System.setProperty("memlong.java-decode.packed", "false");
        LlamaModel inPlace;
        try {
            inPlace = LlamaModel.load(Fixtures.hfTinyLlama());
        } finally {
            System.clearProperty("memlong.java-decode.packed");
        }
        try (inPlace) {
            int rows = 11;
            float[][] packed = decodeStep(model, rows, -1);
            float[][] reference = decodeStep(inPlace, rows, -1);
            double max = 0;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < packed[r].length; j++) {
                    max = Math.max(max, Math.abs(packed[r][j] - reference[r][j]));
                }
            }
            assertTrue(max < 1e-5, "packed vs in-place products: max |diff| " + max);
            for (int r : new int[] {0, 7, 9, 10}) {
                assertTrue(java.util.Arrays.equals(packed[r], decodeStep(model, rows, r)[0]), "row " + r + " alone");
            }
        }
    }

    /** One decode step after a prompt, for all {@code rows} sequences or only sequence {@code only} (if >= 0). */
    private static float[][] decodeStep(LlamaModel m, int rows, int only) {
        int vocab = m.config().vocabSize();
        try (KvCachePool cache = m.newCache(rows, 32)) {
            List<SequenceStep> steps = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                if (only >= 0 && i != only) {
                    continue;
                }
                m.forward(cache, List.of(new SequenceStep(i, new Random(300 + i).ints(3 + i, 0, vocab).toArray())),
                        false);
                steps.add(new SequenceStep(i, new int[] {new Random(900 + i).nextInt(vocab)}));
            }
            float[][][] logits = m.forward(cache, steps, false);
            float[][] out = new float[logits.length][];
            for (int i = 0; i < logits.length; i++) {
                out[i] = logits[i][0];
            }
            return out;
        }
    }

    /** The largest element-wise difference of two equally long lists of logits. */
    private static double maxDiff(List<float[]> a, List<float[]> b) {
        assertEquals(b.size(), a.size());
        double max = 0;
        for (int i = 0; i < a.size(); i++) {
            for (int j = 0; j < a.get(i).length; j++) {
                max = Math.max(max, Math.abs(a.get(i)[j] - b.get(i)[j]));
            }
        }
        return max;
    }

    private static MemoryKv memory(int tokens, long seed) {
        Random rnd = new Random(seed);
        int width = model.config().numKvHeads() * model.config().headDim();
        float[] k = new float[tokens * width];
        float[] v = new float[tokens * width];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) (rnd.nextGaussian() * 1.5);
            v[i] = (float) (rnd.nextGaussian() * 1.5);
        }
        return model.memoryKv(k, v, tokens);
    }
}
