package dev.memlong.examples.bench.batching;

import dev.memlong.examples.bench.BenchPrompt;
import dev.memlong.examples.bench.Samples;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.SequenceStep;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model alone at each batch size: {@code B} sequences in cache slots 0..B-1 decode one token each per forward
 * (greedy), timed without actors, sampling or streaming, at the mean context the scheduler's tier of that size ran at
 * (attention and the K/V read grow with it). Its median step time is what the scheduler's step would cost if it
 * added nothing.
 */
final class ModelSteps {

    private static final int WARMUPS = 3;
    /**
     * Warm-up steps run at least this long: the Java decode step's kernels are compiled by the JIT during the first
     * seconds of decoding, and three steps of batch 1 (the first size measured) are over long before that (the
     * model alone then read 36 tok/s at batch 1 where the scheduler, measured later, reached 55).
     */
    private static final long WARMUP_NANOS = 2_000_000_000L;
    private static final int TIMED = 12;

    private ModelSteps() {}

    /**
     * Median decode step seconds per batch size, each at its context: the prompt is that context less half the timed
     * steps, so the timed steps' mean context is the one given.
     */
    static Map<Integer, Double> measure(Path modelDir, Map<Integer, Integer> contextByBatchSize,
                                        dev.memlong.runtime.model.ModelOptions options) {
        Map<Integer, Double> out = new LinkedHashMap<>();
        try (LlamaModel model = LlamaModel.load(modelDir, options)) {
            int vocab = model.config().vocabSize();
            for (Map.Entry<Integer, Integer> e : contextByBatchSize.entrySet()) {
                int b = e.getKey();
                int promptTokens = Math.max(1, e.getValue() - TIMED / 2);
                try (KvCachePool cache = model.newCache(b, promptTokens + WARMUPS + TIMED + 8)) {
                    int[] next = new int[b];
                    for (int i = 0; i < b; i++) {
                        int[] prompt = BenchPrompt.ids(promptTokens, vocab, 7 + i);
                        next[i] = argmax(model.forward(cache, List.of(new SequenceStep(i, prompt)), false)[0][0]);
                    }
                    double[] steps = new double[TIMED];
                    long warmUpUntil = System.nanoTime() + WARMUP_NANOS;
                    for (int s = -WARMUPS; s < TIMED; s++) {
                        if (s == 0 && System.nanoTime() < warmUpUntil) {
                            s = -1; // keep warming up
                        }
                        List<SequenceStep> batch = new ArrayList<>(b);
                        for (int i = 0; i < b; i++) {
                            batch.add(new SequenceStep(i, new int[] {next[i]}));
                        }
                        long t0 = System.nanoTime();
                        float[][][] logits = model.forward(cache, batch, false);
                        for (int i = 0; i < b; i++) {
                            next[i] = argmax(logits[i][0]);
                        }
                        if (s >= 0) {
                            steps[s] = (System.nanoTime() - t0) / 1e9;
                        } else {
                            for (int i = 0; i < b; i++) {
                                cache.truncate(i, promptTokens); // warm-up steps leave the context as it was
                            }
                        }
                    }
                    out.put(b, Samples.median(steps));
                }
            }
        }
        return out;
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
