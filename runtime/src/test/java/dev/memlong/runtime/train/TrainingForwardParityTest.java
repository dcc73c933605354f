package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.MemLongLayers;
import dev.memlong.runtime.model.MemoryKv;
import dev.memlong.runtime.model.SequenceStep;
import dev.memlong.runtime.testing.Fixtures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The training forward computes the inference decoder's function: transformers' logits, and MemLong's memory attention. */
class TrainingForwardParityTest {

    private static NDManager root;
    private static ModelParameters params;
    private static LlamaModel model;

    @BeforeAll
    static void load() {
        root = Engines.pytorch().newBaseManager();
        params = ModelParameters.load(Fixtures.hfTinyLlama(), root);
        model = LlamaModel.load(Fixtures.hfTinyLlama());
    }

    @AfterAll
    static void close() {
        model.close();
        params.close();
        root.close();
    }

    private static float[][] logits(TrainingForward fwd, int[] ids, int offset, SegmentMemory memory, NDManager m) {
        long[] tokens = Arrays.stream(ids).asLongStream().toArray();
        float[] flat = fwd.forward(params::get, m, new TrainingForward.Input(tokens, 1, ids.length, offset, memory, null))
                .logits().toFloatArray();
        int vocab = params.config().vocabSize();
        float[][] out = new float[ids.length][];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Arrays.copyOfRange(flat, i * vocab, (i + 1) * vocab);
        }
        return out;
    }

    @Test
    void logitsEqualTransformersReference() {
        TrainingForward fwd = new TrainingForward(params.config(), 1, new int[] {1, 3}, null, 0);
        JsonNode cases = Fixtures.reference(Fixtures.hfTinyLlama()).get("cases");
        try (NDManager m = root.newSubManager()) {
            for (int c = 0; c < cases.size(); c++) {
                int[] ids = Fixtures.ints(cases.get(c).get("ids"));
                double diff = Fixtures.maxAbsDiff(Fixtures.matrix(cases.get(c).get("logits")), logits(fwd, ids, 0, null, m));
                assertTrue(diff < 1e-4, "case " + c + ": max |diff| " + diff);
            }
        }
    }

    @Test
    void withMemoryEqualsTheInferenceDecoderWithMemoryKv() {
        MemLongLayers layers = new MemLongLayers(1, new int[] {1, 3});
        TrainingForward fwd = new TrainingForward(params.config(), 1, layers.retrievalLayers(), null, 0);
        int width = params.config().numKvHeads() * params.config().headDim();
        int memTokens = 7;
        Random rnd = new Random(3);
        float[] keys = new float[memTokens * width];
        float[] values = new float[memTokens * width];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = (float) (rnd.nextGaussian() * 1.5);
            values[i] = (float) (rnd.nextGaussian() * 1.5);
        }
        int[] ids = Fixtures.ints(Fixtures.reference(Fixtures.hfTinyLlama()).get("cases").get(0).get("ids"));
        float[][] expected;
        try (KvCachePool cache = model.newCache(1, 64, layers); MemoryKv mem = model.memoryKv(keys, values, memTokens)) {
            expected = model.forward(cache, List.of(new SequenceStep(0, ids)), true, List.of(mem))[0];
        }
        try (NDManager m = root.newSubManager()) {
            SegmentMemory memory = SegmentMemory.of(m, new float[][] {keys}, new float[][] {values},
                    params.config().numKvHeads(), params.config().headDim());
            double diff = Fixtures.maxAbsDiff(expected, logits(fwd, ids, 1, memory, m));
            assertTrue(diff < 1e-4, "max |diff| " + diff);
            double withoutDiff = Fixtures.maxAbsDiff(expected, logits(fwd, ids, 1, null, m));
            assertTrue(withoutDiff > 1e-2, "memory must matter");
        }
    }

    @Test
    void memoryPerPieceEqualsTheInferenceDecoderRetrievingAgainAtTheBoundary() {
        MemLongLayers layers = new MemLongLayers(1, new int[] {1, 3});
        TrainingForward fwd = new TrainingForward(params.config(), 1, layers.retrievalLayers(), null, 0);
        int width = params.config().numKvHeads() * params.config().headDim();
        Random rnd = new Random(11);
        float[][] keys = {new float[5 * width], new float[3 * width]};
        float[][] values = {new float[5 * width], new float[3 * width]};
        for (int p = 0; p < 2; p++) {
            for (int i = 0; i < keys[p].length; i++) {
                keys[p][i] = (float) (rnd.nextGaussian() * 1.5);
                values[p][i] = (float) (rnd.nextGaussian() * 1.5);
            }
        }
        int[] ids = {5, 9, 17, 33, 2, 8, 40, 41, 3, 7, 7, 100};
        int[] starts = {0, 3, 9}; // pieces of 3, 6 and 3 tokens (an exchange is as long as its turns)
        // inference: the cache keeps each piece's tokens as computed with that piece's memory; the last piece reads none
        List<float[]> expected = new ArrayList<>();
        try (KvCachePool cache = model.newCache(1, 64, layers)) {
            for (int p = 0; p < 3; p++) {
                int[] part = Arrays.copyOfRange(ids, starts[p], p + 1 < 3 ? starts[p + 1] : ids.length);
                if (p < 2) {
                    try (MemoryKv mem = model.memoryKv(keys[p], values[p], keys[p].length / width)) {
                        expected.addAll(List.of(model.forward(cache, List.of(new SequenceStep(0, part)), true, List.of(mem))[0]));
                    }
                } else {
                    expected.addAll(List.of(model.forward(cache, List.of(new SequenceStep(0, part)), true)[0]));
                }
            }
        }
        try (NDManager m = root.newSubManager()) {
            SegmentMemory memory = SegmentMemory.perPiece(m, new float[][][] {{keys[0], keys[1], new float[0]}},
                    new float[][][] {{values[0], values[1], new float[0]}}, new int[][] {starts}, params.config().numKvHeads(),
                    params.config().headDim());
            double diff = Fixtures.maxAbsDiff(expected.toArray(new float[0][]), logits(fwd, ids, 1, memory, m));
            assertTrue(diff < 1e-4, "max |diff| " + diff);
            SegmentMemory firstForAll = SegmentMemory.of(m, new float[][] {keys[0]}, new float[][] {values[0]},
                    params.config().numKvHeads(), params.config().headDim());
            double sharedDiff = Fixtures.maxAbsDiff(expected.toArray(new float[0][]), logits(fwd, ids, 1, firstForAll, m));
            assertTrue(sharedDiff > 1e-2, "one memory for the whole segment must differ: " + sharedDiff);
        }
    }

    @Test
    void batchedRowsWithDifferentMemoryEqualEachAlone() {
        TrainingForward fwd = new TrainingForward(params.config(), 1, new int[] {1, 3}, null, 0);
        int width = params.config().numKvHeads() * params.config().headDim();
        Random rnd = new Random(5);
        float[][] keys = {new float[3 * width], new float[0]};
        float[][] values = {new float[3 * width], new float[0]};
        for (int i = 0; i < keys[0].length; i++) {
            keys[0][i] = (float) rnd.nextGaussian();
            values[0][i] = (float) rnd.nextGaussian();
        }
        int[] a = {5, 9, 17, 33, 2, 8};
        int[] b = {40, 41, 3, 7, 7, 100};
        try (NDManager m = root.newSubManager()) {
            long[] both = new long[12];
            for (int i = 0; i < 6; i++) {
                both[i] = a[i];
                both[6 + i] = b[i];
            }
            SegmentMemory mem = SegmentMemory.of(m, keys, values, params.config().numKvHeads(), params.config().headDim());
            float[] batched = fwd.forward(params::get, m, new TrainingForward.Input(both, 2, 6, 1, mem, null))
                    .logits().toFloatArray();
            float[][] aloneA = logits(fwd, a, 1, SegmentMemory.of(m, new float[][] {keys[0]}, new float[][] {values[0]},
                    params.config().numKvHeads(), params.config().headDim()), m);
            float[][] aloneB = logits(fwd, b, 1, null, m);
            int vocab = params.config().vocabSize();
            for (int t = 0; t < 6; t++) {
                for (int v = 0; v < vocab; v++) {
                    assertEquals(aloneA[t][v], batched[t * vocab + v], 1e-4);
                    assertEquals(aloneB[t][v], batched[(6 + t) * vocab + v], 1e-4);
                }
            }
        }
    }
}
