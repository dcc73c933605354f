package dev.memlong.examples.bench;

import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.SequenceStep;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** Our runtime's prefill and batch-1 decode on the benchmark checkpoint, through {@link LlamaModel#forward}. */
final class RuntimeBench {

    private RuntimeBench() {}

    static RunFigures run(Path modelDir, BenchPlan plan, Consumer<String> log) {
        try (LlamaModel model = LlamaModel.load(modelDir)) {
            int vocab = model.config().vocabSize();
            int[] prompt = BenchPrompt.ids(plan.prefillTokens(), vocab, plan.seed());
            int rounds = warmUp(model, plan, prompt);
            log.accept(String.format("  ours: warmed up for %.0f s (%d prefills of %d tokens + %d decode steps each)",
                    plan.warmupSeconds(), rounds, prompt.length, BenchPlan.WARMUP_DECODE_STEPS));
            double[] prefill = new double[plan.prefillRuns()];
            for (int i = -plan.prefillWarmups(); i < plan.prefillRuns(); i++) {
                double s = prefillSeconds(model, prompt);
                if (i >= 0) {
                    prefill[i] = s;
                }
                log.accept(String.format("  ours: prefill %d tokens in %.3f s%s", prompt.length, s, i < 0 ? " (warm-up)" : ""));
            }
            double[] steps = decodeStepSeconds(model, plan, vocab);
            return RunFigures.of(plan.prefillTokens(), prefill, steps);
        }
    }

    /**
     * The plan's time-based warm-up, the same on Jlama's side ({@code JlamaBenchMain#warmUp}): prefill and decode
     * steps until {@code warmupSeconds} have passed, so both JITs have compiled their kernels before anything is
     * timed. Returns the rounds run.
     */
    private static int warmUp(LlamaModel model, BenchPlan plan, int[] prompt) {
        int rounds = 0;
        long start = System.nanoTime();
        while (plan.warmingUp(start)) {
            try (KvCachePool cache = model.newCache(1, plan.warmupCapacity())) {
                int next = argmax(model.forward(cache, List.of(new SequenceStep(0, prompt)), false)[0][0]);
                for (int i = 0; i < BenchPlan.WARMUP_DECODE_STEPS; i++) {
                    next = argmax(model.forward(cache, List.of(new SequenceStep(0, new int[] {next})), false)[0][0]);
                }
            }
            rounds++;
        }
        return rounds;
    }

    /** Forward over the prompt plus the greedy choice of the first token, as Jlama's prefill samples it. */
    private static double prefillSeconds(LlamaModel model, int[] prompt) {
        try (KvCachePool cache = model.newCache(1, prompt.length)) {
            long t0 = System.nanoTime();
            float[] logits = model.forward(cache, List.of(new SequenceStep(0, prompt)), false)[0][0];
            argmax(logits);
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /** Greedy decoding after a short prompt; returns each timed step's seconds (forward + argmax). */
    private static double[] decodeStepSeconds(LlamaModel model, BenchPlan plan, int vocab) {
        int[] prompt = BenchPrompt.ids(plan.decodePromptTokens(), vocab, plan.seed() + 1);
        double[] steps = new double[plan.decodeTokens()];
        try (KvCachePool cache = model.newCache(1, plan.decodeCapacity())) {
            int next = argmax(model.forward(cache, List.of(new SequenceStep(0, prompt)), false)[0][0]);
            for (int i = -plan.decodeWarmups(); i < plan.decodeTokens(); i++) {
                long t0 = System.nanoTime();
                float[] logits = model.forward(cache, List.of(new SequenceStep(0, new int[] {next})), false)[0][0];
                next = argmax(logits);
                if (i >= 0) {
                    steps[i] = (System.nanoTime() - t0) / 1e9;
                }
            }
            if (cache.length(0) != prompt.length + plan.decodeWarmups() + plan.decodeTokens()) {
                throw new IllegalStateException("decode ran " + cache.length(0) + " positions, not the planned number");
            }
        }
        return steps;
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
