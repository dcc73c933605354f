package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.retriever.HashingRetriever;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Training reads memory: a model learns to answer from memory what its window does not hold, both with MemLong's
 * detached, retrieved memory and with in-graph memory; and the gradient through memory attention is the
 * derivative (checked by finite differences).
 *
 * <p>The task: segment A is filler with one value token somewhere; segment B asks (a question token) and the next
 * token must be that value, which only memory holds. Everything but B's value is context only.
 */
class MemoryGradientsTest {

    static final int SEGMENT = 16;
    static final int QUESTION = 50;
    static final int ASKED_AT = 8;
    static final MemorySettings MEMORY = memory(1);

    /** Memory layer m, every layer from m up reads memory, chunks of 8, the top 2 (all of segment A). */
    static MemorySettings memory(int m) {
        List<Integer> layers = new ArrayList<>();
        for (int l = m; l < 4; l++) {
            layers.add(l);
        }
        return new MemorySettings(m, layers, 8, 2, SEGMENT, 100_000, EvictionPolicy.FIFO, KvDType.FP32);
    }

    static List<int[]> documents(int count, long seed) {
        Random rnd = new Random(seed);
        List<int[]> docs = new ArrayList<>();
        for (int d = 0; d < count; d++) {
            int[] doc = new int[2 * SEGMENT];
            for (int i = 0; i < doc.length; i++) {
                doc[i] = SlotStreams.contextOnly(300 + rnd.nextInt(40));
            }
            int value = 200 + rnd.nextInt(40);
            doc[rnd.nextInt(SEGMENT)] = SlotStreams.contextOnly(value);
            doc[SEGMENT + ASKED_AT] = SlotStreams.contextOnly(QUESTION);
            doc[SEGMENT + ASKED_AT + 1] = value;
            docs.add(doc);
        }
        return docs;
    }

    private static TrainingSettings settings(MemorySettings memory, boolean retrieval, boolean memoryGradients, int steps) {
        // lr 1e-3: at 1e-2 the memory heads collapse onto one arbitrary memory token and the task is never learned
        return new TrainingSettings(TrainingMode.FULL_ALL, null, memory, retrieval,
                new LrSchedule(1e-3, 20, steps, LrSchedule.Decay.COSINE, 0.1), 0.0, 0.9, 0.98, 1e-8, 1.0, 1, 16,
                SEGMENT, 1, 5, memoryGradients ? 1 : 0, 0);
    }

    private static double[] trainAndMeasure(TrainingSettings s, int steps) {
        try (NDManager root = Engines.pytorch().newBaseManager();
             TextTokenizer tok = Tokenizers.open(Fixtures.hfTinyLlama());
             ModelParameters params = ModelParameters.initialize(ModelConfig.load(Fixtures.hfTinyLlama()), 5, root)) {
            params.prepare(s.mode(), s.memory().memoryLayer(), null, s.seed());
            try (Trainer trainer = new Trainer(params, s, documents(steps * 8, 1),
                    s.retrieval() ? new HashingRetriever() : null, s.retrieval() ? tok : null)) {
                for (int i = 0; i < steps; i++) {
                    trainer.trainStep();
                }
            }
            return accuracy(params, s, documents(64, 99));
        }
    }

    @Test
    void theMemLongStageLearnsToReadRetrievedMemory() {
        // memory layer 0: detached memory gives the layers up to m no reason to help, so the reading is learnt above it
        double[] acc = trainAndMeasure(settings(memory(0), true, false, 1200), 1200);
        assertTrue(acc[0] > 0.9 && acc[1] < 0.2, "value accuracy with memory " + acc[0] + ", without " + acc[1]);
    }

    @Test
    void inGraphMemoryLearnsToo() {
        double[] acc = trainAndMeasure(settings(MEMORY, false, true, 1200), 1200);
        assertTrue(acc[0] > 0.9 && acc[1] < 0.2, "value accuracy with memory " + acc[0] + ", without " + acc[1]);
    }

    @Test
    void inGraphMemoryOfTwoSegmentsReachesAValueTwoSegmentsBack() {
        // A holds the value, then a segment of filler, then B asks: only memory of the previous two segments holds it
        TrainingSettings s = new TrainingSettings(TrainingMode.FULL_ALL, null, MEMORY, false,
                new LrSchedule(1e-3, 20, 1200, LrSchedule.Decay.COSINE, 0.1), 0.0, 0.9, 0.98, 1e-8, 1.0, 1, 16,
                SEGMENT, 1, 5, 2, 0);
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters params = ModelParameters.initialize(ModelConfig.load(Fixtures.hfTinyLlama()), 5, root)) {
            params.prepare(s.mode(), s.memory().memoryLayer(), null, s.seed());
            try (Trainer trainer = new Trainer(params, s, withFillerSegment(documents(1200 * 8, 1)), null, null)) {
                for (int i = 0; i < 1200; i++) {
                    trainer.trainStep();
                }
            }
            List<int[]> test = withFillerSegment(documents(64, 99));
            TrainingForward forward = Trainer.forwardFor(params, s);
            int b = test.size();
            long[] memoryTokens = new long[b * 2 * SEGMENT]; // rows: A and the filler of each document
            long[] q = new long[b * SEGMENT];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < 2 * SEGMENT; j++) {
                    memoryTokens[i * 2 * SEGMENT + j] = SlotStreams.id(test.get(i)[j]);
                }
                for (int j = 0; j < SEGMENT; j++) {
                    q[i * SEGMENT + j] = SlotStreams.id(test.get(i)[2 * SEGMENT + j]);
                }
            }
            double[] acc = new double[2];
            try (NDManager m = params.manager().newSubManager()) {
                NDArray[] kv = forward.forwardToMemoryLayer(params::get, m,
                        new TrainingForward.Input(memoryTokens, 2 * b, SEGMENT, 1, null, null));
                int[] widths = new int[b];
                Arrays.fill(widths, 2 * SEGMENT);
                SegmentMemory memory = SegmentMemory.inGraph(kv[0].reshape(b, 2 * SEGMENT, 2, 16),
                        kv[1].reshape(b, 2 * SEGMENT, 2, 16), widths);
                for (int variant = 0; variant < 2; variant++) {
                    long[] argmax = forward.forward(params::get, m, new TrainingForward.Input(q, b, SEGMENT, 1,
                            variant == 0 ? memory : null, null)).logits().argMax(2).toLongArray();
                    int right = 0;
                    for (int i = 0; i < b; i++) {
                        right += argmax[i * SEGMENT + ASKED_AT] == q[i * SEGMENT + ASKED_AT + 1] ? 1 : 0;
                    }
                    acc[variant] = right / (double) b;
                }
            }
            assertTrue(acc[0] > 0.9 && acc[1] < 0.2, "value accuracy with memory " + acc[0] + ", without " + acc[1]);
        }
    }

    /** Documents A + B become A + filler + B. */
    private static List<int[]> withFillerSegment(List<int[]> docs) {
        Random rnd = new Random(17);
        List<int[]> out = new ArrayList<>();
        for (int[] d : docs) {
            int[] doc = new int[3 * SEGMENT];
            System.arraycopy(d, 0, doc, 0, SEGMENT);
            for (int i = SEGMENT; i < 2 * SEGMENT; i++) {
                doc[i] = SlotStreams.contextOnly(300 + rnd.nextInt(40));
            }
            System.arraycopy(d, SEGMENT, doc, 2 * SEGMENT, SEGMENT);
            out.add(doc);
        }
        return out;
    }

    @Test
    void theMemoryLayersKvAloneEqualsTheFullForwards() {
        TrainingSettings s = settings(MEMORY, false, true, 10);
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters params = ModelParameters.initialize(ModelConfig.load(Fixtures.hfTinyLlama()), 5, root);
             NDManager m = root.newSubManager()) {
            TrainingForward forward = Trainer.forwardFor(params, s);
            long[] tokens = new long[2 * SEGMENT];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = 100 + i * 7 % 300;
            }
            TrainingForward.Input in = new TrainingForward.Input(tokens, 2, SEGMENT, 1, null, null);
            TrainingForward.Output full = forward.forward(params::get, m, in);
            NDArray[] kv = forward.forwardToMemoryLayer(params::get, m, in);
            org.junit.jupiter.api.Assertions.assertArrayEquals(full.memoryKeys().toFloatArray(), kv[0].toFloatArray(), 1e-6f);
            org.junit.jupiter.api.Assertions.assertArrayEquals(full.memoryValues().toFloatArray(), kv[1].toFloatArray(), 1e-6f);
        }
    }

    @Test
    void inGraphMemoryAndRetrievalExcludeEachOther() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> settings(MEMORY, true, true, 10));
        assertTrue(e.getMessage().contains("exclude"), e.getMessage());
    }

    @Test
    void positionSpreadDrawsEveryFirstPositionInItsRangeTheSameOnEveryWorkerSplit() {
        LrSchedule lr = new LrSchedule(1e-3, 0, 100, LrSchedule.Decay.COSINE, 0.1);
        TrainingSettings s = new TrainingSettings(TrainingMode.FULL_ALL, null, MEMORY, true, lr, 0.0, 0.9, 0.98, 1e-8,
                1.0, 2, 2, SEGMENT, 1, 5, 0, 0, 8);
        java.util.Set<Integer> seen = new java.util.TreeSet<>();
        for (int step = 0; step < 200; step++) {
            for (int micro = 0; micro < 2; micro++) {
                int p = s.firstPosition(step, micro);
                assertTrue(p >= 1 && p <= 9, "position " + p);
                assertEquals(p, s.withWorkers(2).firstPosition(step, micro));
                seen.add(p);
            }
        }
        assertEquals(9, seen.size(), "every position 1..9 drawn: " + seen);
        TrainingSettings fixed = new TrainingSettings(TrainingMode.FULL_ALL, null, MEMORY, true, lr, 0.0, 0.9, 0.98,
                1e-8, 1.0, 1, 2, SEGMENT, 1, 5);
        assertEquals(1, fixed.firstPosition(7, 0), "memory at 0, local tokens from 1");
        assertEquals(0, fixed.withMode(TrainingMode.FULL_ALL, false).firstPosition(7, 0), "no memory: from 0");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new TrainingSettings(
                TrainingMode.FULL_ALL, null, MEMORY, false, lr, 0.0, 0.9, 0.98, 1e-8, 1.0, 1, 2, SEGMENT, 1, 5, 0, 0, 8),
                "spread positions without memory mean nothing");
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new TrainingSettings(
                TrainingMode.FULL_ALL, null, MEMORY, true, lr, 0.0, 0.9, 0.98, 1e-8, 1.0, 1, 2, SEGMENT, 1, 5, 0, 0, -1));
    }

    @Test
    void theMemoryScoreBiasFadesOutByHalfTheRunAndShiftsOnlyMemoryScores() {
        TrainingSettings s = new TrainingSettings(TrainingMode.FULL_ALL, null, MEMORY, true,
                new LrSchedule(1e-3, 0, 100, LrSchedule.Decay.COSINE, 0.1), 0.0, 0.9, 0.98, 1e-8, 1.0, 1, 2, SEGMENT, 1,
                5, 0, 6);
        assertEquals(6.0, s.memoryScoreBiasAt(0), 1e-9);
        assertEquals(3.0, s.memoryScoreBiasAt(25), 1e-9);
        assertEquals(0.0, s.memoryScoreBiasAt(50), 1e-9);
        assertEquals(0.0, s.memoryScoreBiasAt(99), 1e-9);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new TrainingSettings(
                TrainingMode.FULL_ALL, null, MEMORY, true, new LrSchedule(1e-3, 0, 100, LrSchedule.Decay.COSINE, 0.1),
                0.0, 0.9, 0.98, 1e-8, 1.0, 1, 2, SEGMENT, 1, 5, 0, -1));
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            float[][] kv = {new float[3 * 32], new float[1 * 32]};
            SegmentMemory mem = SegmentMemory.of(m, kv, kv, 2, 16).withScoreBias(2.5f);
            float[] mask = mem.mask(m, 2).toFloatArray(); // [2 rows, 1, 1, 2 tokens, 3 + 2 columns]
            float inf = Float.NEGATIVE_INFINITY;
            org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {
                2.5f, 2.5f, 2.5f, 0, inf,   2.5f, 2.5f, 2.5f, 0, 0,     // row 0: three memory tokens
                2.5f, inf, inf, 0, inf,     2.5f, inf, inf, 0, 0}, mask); // row 1: one
        }
    }

    @Test
    void theGradientThroughMemoryAttentionIsTheDerivative() {
        TrainingSettings s = settings(MEMORY, false, true, 10);
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters params = ModelParameters.initialize(ModelConfig.load(Fixtures.hfTinyLlama()), 5, root)) {
            TrainingForward forward = Trainer.forwardFor(params, s);
            int b = 2;
            int perToken = 2 * 16; // KV heads x head dim of the fixture
            long[] q = new long[b * SEGMENT];
            long[] targets = new long[b * SEGMENT];
            Arrays.fill(targets, -1);
            List<int[]> docs = documents(b, 3);
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < SEGMENT; j++) {
                    q[i * SEGMENT + j] = SlotStreams.id(docs.get(i)[SEGMENT + j]);
                }
                targets[i * SEGMENT + ASKED_AT] = q[i * SEGMENT + ASKED_AT + 1];
            }
            Random r = new Random(1);
            float[][] keys = new float[b][SEGMENT * perToken];
            float[][] values = new float[b][SEGMENT * perToken];
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < keys[i].length; j++) {
                    keys[i][j] = (float) r.nextGaussian();
                    values[i][j] = (float) r.nextGaussian();
                }
            }
            float[] gk;
            float[] gv;
            try (NDManager m = params.manager().newSubManager(); GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                SegmentMemory mem = SegmentMemory.of(m, keys, values, 2, 16);
                mem.keys().setRequiresGradient(true);
                mem.values().setRequiresGradient(true);
                gc.backward(TrainingForward.crossEntropySum(m, forward.forward(params::get, m,
                        new TrainingForward.Input(q, b, SEGMENT, 1, mem, null)).logits(), targets));
                gk = mem.keys().getGradient().toFloatArray();   // [B, KV, M, D]
                gv = mem.values().getGradient().toFloatArray();
            }
            for (boolean isKey : new boolean[] {true, false}) {
                for (int token : new int[] {3, 9}) {
                    int kvHead = 1;
                    int dim = 5;
                    double[] loss = new double[2];
                    for (int sign = 0; sign < 2; sign++) {
                        float[][] k2 = Arrays.stream(keys).map(float[]::clone).toArray(float[][]::new);
                        float[][] v2 = Arrays.stream(values).map(float[]::clone).toArray(float[][]::new);
                        (isKey ? k2 : v2)[0][(token * 2 + kvHead) * 16 + dim] += sign == 0 ? 1e-2f : -1e-2f;
                        try (NDManager m = params.manager().newSubManager()) {
                            loss[sign] = TrainingForward.crossEntropySum(m, forward.forward(params::get, m,
                                    new TrainingForward.Input(q, b, SEGMENT, 1, SegmentMemory.of(m, k2, v2, 2, 16), null))
                                    .logits(), targets).getFloat();
                        }
                    }
                    double numeric = (loss[0] - loss[1]) / 2e-2;
                    double autograd = (isKey ? gk : gv)[(kvHead * SEGMENT + token) * 16 + dim];
                    assertTrue(Math.abs(numeric) > 1e-5, "the loss depends on memory");
                    assertEquals(numeric, autograd, 0.15 * Math.abs(numeric) + 1e-5,
                            (isKey ? "key" : "value") + " of memory token " + token);
                }
            }
        }
    }

    /** Value accuracy at the question of B: reading A as memory, and with no memory. */
    static double[] accuracy(ModelParameters params, TrainingSettings s, List<int[]> docs) {
        TrainingForward forward = Trainer.forwardFor(params, s);
        int b = docs.size();
        long[] a = new long[b * SEGMENT];
        long[] q = new long[b * SEGMENT];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < SEGMENT; j++) {
                a[i * SEGMENT + j] = SlotStreams.id(docs.get(i)[j]);
                q[i * SEGMENT + j] = SlotStreams.id(docs.get(i)[SEGMENT + j]);
            }
        }
        double[] out = new double[2];
        try (NDManager m = params.manager().newSubManager()) {
            TrainingForward.Output read = forward.forward(params::get, m, new TrainingForward.Input(a, b, SEGMENT, 1, null, null));
            int[] widths = new int[b];
            Arrays.fill(widths, SEGMENT);
            SegmentMemory memory = SegmentMemory.inGraph(read.memoryKeys(), read.memoryValues(), widths);
            for (int variant = 0; variant < 2; variant++) {
                NDArray logits = forward.forward(params::get, m, new TrainingForward.Input(q, b, SEGMENT, 1,
                        variant == 0 ? memory : null, null)).logits();
                long[] argmax = logits.argMax(2).toLongArray();
                int right = 0;
                for (int i = 0; i < b; i++) {
                    right += argmax[i * SEGMENT + ASKED_AT] == q[i * SEGMENT + ASKED_AT + 1] ? 1 : 0;
                }
                out[variant] = right / (double) b;
            }
        }
        return out;
    }
}
