package dev.memlong.examples.bench;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.ModelOptions;
import dev.memlong.runtime.model.SequenceStep;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * Runs {@code memlong bench kv-cache}: decode steps of the ~110M model alone at a long context, with a float32 and a
 * bfloat16 KV cache ({@code memlong.model.kv-cache-dtype}) side by side, rounds alternating. Every sequence's cache
 * holds {@code context} tokens and stays there (each step's token is dropped again), so each step reads exactly
 * that much K/V per sequence: the cost that the window's length adds to decoding, which {@code bench batching}'s
 * short conversations do not reach.
 *
 * @param context tokens in every sequence's cache
 * @param batches sequences per step, one figure each
 * @param rounds  rounds of both dtypes (the median step of each round's steps is reported per round)
 */
public record KvCacheBench(Path dataDir, int context, List<Integer> batches, int rounds, Consumer<String> log) {

    private static final int WARMUP_STEPS = 3;
    private static final int TIMED_STEPS = 15;

    /** Median step milliseconds: dtype -> batch -> one figure per round. */
    public Map<String, Map<Integer, List<Double>>> run() {
        ModelShape shape = ModelShape.llama110m();
        Path dir = BenchCheckpoint.ensure(BenchCheckpoint.directory(dataDir), shape, 42, log);
        Map<String, Map<Integer, List<Double>>> out = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (DataType kv : List.of(DataType.FLOAT32, DataType.BFLOAT16)) {
                Map<Integer, List<Double>> byBatch = out.computeIfAbsent(kv.toString(), k -> new LinkedHashMap<>());
                try (LlamaModel model = LlamaModel.load(dir, new ModelOptions(Device.cpu(), DataType.FLOAT32, kv))) {
                    int slots = batches.stream().mapToInt(Integer::intValue).max().orElseThrow();
                    try (KvCachePool cache = model.newCache(slots, context + 1)) {
                        Random tokens = new Random(round);
                        fill(model, cache, slots, shape.vocab(), tokens);
                        for (int b : batches) {
                            double ms = medianStepMs(model, cache, b, shape.vocab(), tokens);
                            byBatch.computeIfAbsent(b, k -> new ArrayList<>()).add(ms);
                            log.accept(String.format("  round %d, %s cache, %d sequences at %d tokens: %.1f ms a step",
                                    round + 1, kv, b, context, ms));
                        }
                    }
                }
            }
        }
        return out;
    }

    private void fill(LlamaModel model, KvCachePool cache, int slots, int vocab, Random tokens) {
        for (int s = 0; s < slots; s++) {
            for (int from = 0; from < context; from += 256) {
                int n = Math.min(256, context - from);
                model.forward(cache, List.of(new SequenceStep(s, tokens.ints(n, 0, vocab).toArray())), false);
            }
        }
    }

    private double medianStepMs(LlamaModel model, KvCachePool cache, int batch, int vocab, Random tokens) {
        double[] times = new double[TIMED_STEPS];
        for (int i = 0; i < WARMUP_STEPS + TIMED_STEPS; i++) {
            List<SequenceStep> steps = new ArrayList<>(batch);
            for (int s = 0; s < batch; s++) {
                steps.add(new SequenceStep(s, new int[] {tokens.nextInt(vocab)}));
            }
            long t0 = System.nanoTime();
            model.forward(cache, steps, false);
            long t1 = System.nanoTime();
            for (int s = 0; s < batch; s++) {
                cache.truncate(s, context); // back to the context: every step reads the same K/V
            }
            if (i >= WARMUP_STEPS) {
                times[i - WARMUP_STEPS] = (t1 - t0) / 1e6;
            }
        }
        return Samples.median(times);
    }
}
