package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.runtime.testing.Fixtures;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The decoder against logits and greedy continuations computed by Hugging Face transformers. */
class HfParityTest {

    private static final double TOLERANCE = 1e-4;
    private static LlamaModel model;
    private static JsonNode reference;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(Fixtures.hfTinyLlama());
        reference = Fixtures.reference(Fixtures.hfTinyLlama());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void logitsAtEveryPositionMatchTransformers() {
        for (JsonNode c : reference.get("cases")) {
            float[][] ours = model.forwardLogits(Fixtures.ints(c.get("ids")));
            double diff = Fixtures.maxAbsDiff(ours, Fixtures.matrix(c.get("logits")));
            assertTrue(diff < TOLERANCE, "case '" + c.get("text").asText() + "': max |diff| " + diff);
        }
    }

    @Test
    void greedyContinuationWithKvCacheMatchesTransformers() {
        for (JsonNode c : reference.get("cases")) {
            int[] ids = Fixtures.ints(c.get("ids"));
            int[] expected = Fixtures.ints(c.get("greedy"));
            int[] got = new int[expected.length];
            try (KvCachePool cache = model.newCache(1, ids.length + expected.length)) {
                float[] logits = model.forward(cache, List.of(new SequenceStep(0, ids)), false)[0][0];
                for (int i = 0; i < expected.length; i++) {
                    got[i] = argmax(logits);
                    logits = model.forward(cache, List.of(new SequenceStep(0, new int[] {got[i]})), false)[0][0];
                }
            }
            assertArrayEquals(expected, got, "greedy continuation of '" + c.get("text").asText() + "'");
        }
    }

    @Test
    void incrementalDecodingEqualsOneFullForward() {
        int[] ids = Fixtures.ints(reference.get("cases").get(2).get("ids"));
        float[][] full = model.forwardLogits(ids);
        float[][] incremental = new float[ids.length][];
        try (KvCachePool cache = model.newCache(1, ids.length)) {
            // a prefix of 7 tokens, then one token at a time
            float[][] prefix = model.forward(cache, List.of(new SequenceStep(0, Arrays.copyOf(ids, 7))), true)[0];
            System.arraycopy(prefix, 0, incremental, 0, 7);
            for (int i = 7; i < ids.length; i++) {
                incremental[i] = model.forward(cache, List.of(new SequenceStep(0, new int[] {ids[i]})), false)[0][0];
            }
        }
        assertTrue(Fixtures.maxAbsDiff(full, incremental) < TOLERANCE);
    }

    @Test
    void batchedSequencesOfDifferentLengthsEqualEachAlone() {
        List<int[]> prompts = new ArrayList<>();
        for (JsonNode c : reference.get("cases")) {
            prompts.add(Fixtures.ints(c.get("ids")));
        }
        int capacity = 64;
        try (KvCachePool cache = model.newCache(prompts.size(), capacity)) {
            // prefill: all prompts in one padded batch, every position's logits
            List<SequenceStep> steps = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                steps.add(new SequenceStep(i, prompts.get(i)));
            }
            float[][][] batched = model.forward(cache, steps, true);
            for (int i = 0; i < prompts.size(); i++) {
                float[][] alone = model.forwardLogits(prompts.get(i));
                assertTrue(Fixtures.maxAbsDiff(alone, batched[i]) < TOLERANCE, "prefill of sequence " + i);
            }
            // then batched decode steps over the caches of different lengths, in a non-contiguous slot order
            int[][] next = new int[prompts.size()][];
            for (int i = 0; i < prompts.size(); i++) {
                next[i] = new int[] {argmax(batched[i][batched[i].length - 1])};
            }
            List<SequenceStep> decode = List.of(new SequenceStep(2, next[2]), new SequenceStep(0, next[0]),
                    new SequenceStep(3, next[3]), new SequenceStep(1, next[1]));
            float[][][] step = model.forward(cache, decode, false);
            int[] order = {2, 0, 3, 1};
            for (int k = 0; k < order.length; k++) {
                int i = order[k];
                int[] extended = Arrays.copyOf(prompts.get(i), prompts.get(i).length + 1);
                extended[extended.length - 1] = next[i][0];
                float[][] alone = model.forwardLogits(extended);
                assertTrue(Fixtures.maxAbsDiff(new float[][] {alone[alone.length - 1]}, step[k]) < TOLERANCE,
                        "decode step of sequence " + i);
            }
            assertEquals(prompts.get(0).length + 1, cache.length(0));
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
