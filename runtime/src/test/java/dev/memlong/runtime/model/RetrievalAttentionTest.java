package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.runtime.testing.Fixtures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** MemLong's retrieval causal attention and window overflow against a written-out reference decoder. */
class RetrievalAttentionTest {

    private static final MemLongLayers LAYERS = new MemLongLayers(1, new int[] {1, 3});
    private static LlamaModel model;
    private static ReferenceDecoder reference;
    private static JsonNode cases;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(Fixtures.hfTinyLlama());
        reference = new ReferenceDecoder(Fixtures.hfTinyLlama());
        cases = Fixtures.reference(Fixtures.hfTinyLlama()).get("cases");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static int[] ids(int c) {
        return Fixtures.ints(cases.get(c).get("ids"));
    }

    private static boolean[] retrievalFlags() {
        boolean[] r = new boolean[model.config().numLayers()];
        for (int l : LAYERS.retrievalLayers()) {
            r[l] = true;
        }
        return r;
    }

    /** Random memory K/V, token-major {@code [M][kvHeads*headDim]}, of the scale real keys have. */
    private static double[][] randomMemory(int tokens, long seed) {
        Random rnd = new Random(seed);
        int width = model.config().numKvHeads() * model.config().headDim();
        double[][] m = new double[tokens][width];
        for (double[] row : m) {
            for (int i = 0; i < width; i++) {
                row[i] = (float) (rnd.nextGaussian() * 1.5);
            }
        }
        return m;
    }

    private static float[] flat(double[][] m) {
        int w = m.length == 0 ? 0 : m[0].length;
        float[] f = new float[m.length * w];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < w; j++) {
                f[i * w + j] = (float) m[i][j];
            }
        }
        return f;
    }

    private static double maxDiff(float[][] ours, double[][] ref) {
        double max = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[i].length; j++) {
                max = Math.max(max, Math.abs(ours[i][j] - ref[i][j]));
            }
        }
        return max;
    }

    @Test
    void theReferenceDecoderItselfMatchesTransformers() {
        int[] ids = ids(0);
        double[][] ref = reference.forward(ids, 0, new double[0][], new double[0][], retrievalFlags(), 1).logits();
        float[][] hf = Fixtures.matrix(cases.get(0).get("logits"));
        double max = 0;
        for (int i = 0; i < ids.length; i++) {
            for (int j = 0; j < hf[i].length; j++) {
                max = Math.max(max, Math.abs(hf[i][j] - ref[i][j]));
            }
        }
        assertTrue(max < 1e-4, "reference vs transformers: " + max);
    }

    @Test
    void emptyMemoryGivesThePlainModelsLogits() {
        int[] ids = ids(2);
        try (KvCachePool cache = model.newCache(1, 64, LAYERS)) {
            float[][] memLong = model.forward(cache, List.of(new SequenceStep(0, ids)), true)[0];
            double diff = Fixtures.maxAbsDiff(model.forwardLogits(ids), memLong);
            assertTrue(diff < 1e-5, "Zero-mode positions shift every token by one, which RoPE must not notice: " + diff);
        }
    }

    @Test
    void retrievalLayersMatchTheWrittenOutFormulaWithGqaAndZeroPositions() {
        int[] ids = ids(0);
        double[][] memK = randomMemory(6, 1);
        double[][] memV = randomMemory(6, 2);
        double[][] expected = reference.forward(ids, 1, memK, memV, retrievalFlags(), 1).logits();
        try (KvCachePool cache = model.newCache(1, 64, LAYERS);
             MemoryKv memory = model.memoryKv(flat(memK), flat(memV), 6)) {
            float[][] prefill = model.forward(cache, List.of(new SequenceStep(0, Arrays.copyOf(ids, 10))), true,
                    List.of(memory))[0];
            List<float[]> all = new ArrayList<>(Arrays.asList(prefill));
            for (int i = 10; i < ids.length; i++) { // then decode steps reusing the same memory
                all.add(model.forward(cache, List.of(new SequenceStep(0, new int[] {ids[i]})), false, List.of(memory))[0][0]);
            }
            double diff = maxDiff(all.toArray(new float[0][]), expected);
            assertTrue(diff < 1e-4, "max |diff| " + diff);
        }
        // and memory must matter: without it the logits differ
        double[][] without = reference.forward(ids, 1, new double[0][], new double[0][], retrievalFlags(), 1).logits();
        assertTrue(maxDiffD(expected, without) > 1e-2);
    }

    private static double maxDiffD(double[][] a, double[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }

    @Test
    void batchedSequencesWithDifferentMemorySizesEqualEachAlone() {
        int[][] prompts = {ids(0), ids(1), ids(3), Arrays.copyOf(ids(2), 17)};
        int[] memTokens = {0, 6, 11, 3};
        List<MemoryKv> memories = new ArrayList<>();
        try (KvCachePool cache = model.newCache(prompts.length, 64, LAYERS)) {
            for (int i = 0; i < prompts.length; i++) {
                memories.add(memTokens[i] == 0 ? null : model.memoryKv(flat(randomMemory(memTokens[i], 10 + i)),
                        flat(randomMemory(memTokens[i], 20 + i)), memTokens[i]));
            }
            List<SequenceStep> steps = new ArrayList<>();
            for (int i = 0; i < prompts.length; i++) {
                steps.add(new SequenceStep(i, prompts[i]));
            }
            float[][][] batched = model.forward(cache, steps, true, memories);
            float[][][] decode = model.forward(cache, List.of(new SequenceStep(3, new int[] {5}), new SequenceStep(1, new int[] {9}),
                    new SequenceStep(0, new int[] {7}), new SequenceStep(2, new int[] {11})), false,
                    Arrays.asList(memories.get(3), memories.get(1), memories.get(0), memories.get(2)));
            int[] order = {3, 1, 0, 2};
            int[] next = {7, 9, 11, 5};
            for (int i = 0; i < prompts.length; i++) {
                try (KvCachePool alone = model.newCache(1, 64, LAYERS)) {
                    List<MemoryKv> mine = memories.get(i) == null ? null : List.of(memories.get(i));
                    float[][] single = model.forward(alone, List.of(new SequenceStep(0, prompts[i])), true, mine)[0];
                    assertTrue(Fixtures.maxAbsDiff(single, batched[i]) < 1e-4, "prefill of sequence " + i);
                    float[] step = model.forward(alone, List.of(new SequenceStep(0, new int[] {next[i]})), false, mine)[0][0];
                    int k = indexOf(order, i);
                    assertTrue(Fixtures.maxAbsDiff(new float[][] {step}, decode[k]) < 1e-4, "decode of sequence " + i);
                }
            }
        } finally {
            memories.stream().filter(m -> m != null).forEach(MemoryKv::close);
        }
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        throw new AssertionError();
    }

    @Test
    void shiftWindowReturnsTheMemoryLayersPreRopeKvAndRealignsTheRest() {
        int[] ids = Arrays.copyOf(ids(2), 40);
        int moved = 16;
        try (KvCachePool cache = model.newCache(1, 48, LAYERS)) {
            model.forward(cache, List.of(new SequenceStep(0, ids)), false);
            EvictedWindow evicted = model.shiftWindow(cache, 0, moved);
            assertEquals(40 - moved, cache.length(0));
            // the stored K/V are the memory layer's pre-RoPE K and V of a fresh forward of those tokens
            ReferenceDecoder.Output ref = reference.forward(Arrays.copyOf(ids, moved), 1, new double[0][],
                    new double[0][], retrievalFlags(), LAYERS.memoryLayer());
            int width = model.config().numKvHeads() * model.config().headDim();
            for (int t = 0; t < moved; t++) {
                for (int j = 0; j < width; j++) {
                    assertEquals(ref.memoryLayerKeys()[t][j], evicted.keys()[t * width + j], 1e-4, "key " + t + "," + j);
                    assertEquals(ref.memoryLayerValues()[t][j], evicted.values()[t * width + j], 1e-4, "value " + t + "," + j);
                }
            }
            // layer 0 keys depend on the token alone: after the shift they must be those of positions 1..24
            int[] rest = Arrays.copyOfRange(ids, moved, 40);
            try (KvCachePool fresh = model.newCache(1, 48, LAYERS)) {
                model.forward(fresh, List.of(new SequenceStep(0, rest)), false);
                float[] shifted = cache.keys(0).get("0, :, 0:" + rest.length).toFloatArray();
                float[] expected = fresh.keys(0).get("0, :, 0:" + rest.length).toFloatArray();
                double max = 0;
                for (int i = 0; i < expected.length; i++) {
                    max = Math.max(max, Math.abs(expected[i] - shifted[i]));
                }
                assertTrue(max < 1e-4, "re-rotated keys differ by " + max);
            }
        }
    }
}
