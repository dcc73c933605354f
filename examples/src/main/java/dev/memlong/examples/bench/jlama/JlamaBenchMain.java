package dev.memlong.examples.bench.jlama;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.tensor.operations.TensorOperationsProvider;
import com.github.tjake.jlama.util.PhysicalCoreExecutor;
import dev.memlong.examples.bench.BenchPrompt;
import dev.memlong.examples.bench.BenchPlan;
import java.io.File;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Child-JVM entry point: {@code JlamaBenchMain MODEL_DIR THREADS PLAN...} (the plan as {@code BenchPlan} writes it).
 *
 * <p>It drives Jlama below {@code generate()} so the measurement matches ours exactly: {@code batchForward} over the
 * whole prompt (Jlama splits it into batches of {@code jlama.max_batch_size}, 256 by default) plus sampling of the
 * first token is one prefill; each decode step is {@code forward(token, position, kv)} plus greedy {@code sample}, the
 * same calls {@code generate()} makes, without its EOS check (it never stops early) or text decoding. Progress goes
 * to stderr, the result to stdout.
 */
public final class JlamaBenchMain {

    private JlamaBenchMain() {}

    public static void main(String[] args) throws Exception {
        File modelDir = new File(args[0]);
        int threads = Integer.parseInt(args[1]);
        BenchPlan plan = BenchPlan.fromArgs(args, 2);
        PhysicalCoreExecutor.overrideThreadCount(threads);
        AbstractModel model = ModelSupport.loadModel(modelDir, DType.F32, DType.F32);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model_dtype", model.getWeights().getModelDType().name());
        out.put("working_dtype", model.getWorkingDType().name());
        out.put("threads", PhysicalCoreExecutor.instance.get().getCoreCount());
        out.put("tensor_operations", TensorOperationsProvider.get().name());
        if (model.getWeights().getModelDType() != DType.F32 || model.getWorkingDType() != DType.F32) {
            throw new IllegalStateException("Jlama did not load F32 weights with F32 working memory: " + out);
        }
        int vocab = model.getConfig().vocabularySize;
        int[] prompt = BenchPrompt.ids(plan.prefillTokens(), vocab, plan.seed());
        int rounds = warmUp(model, plan, prompt);
        System.err.printf("  jlama: warmed up for %.0f s (%d prefills of %d tokens + %d decode steps each)%n",
                plan.warmupSeconds(), rounds, prompt.length, BenchPlan.WARMUP_DECODE_STEPS);
        out.put("warmup_rounds", rounds);
        double[] prefill = new double[plan.prefillRuns()];
        for (int i = -plan.prefillWarmups(); i < plan.prefillRuns(); i++) {
            double s = prefillSeconds(model, prompt);
            if (i >= 0) {
                prefill[i] = s;
            }
            System.err.printf("  jlama: prefill %d tokens in %.3f s%s%n", prompt.length, s, i < 0 ? " (warm-up)" : "");
        }
        out.put("prefill_tokens", prompt.length);
        out.put("prefill_seconds", prefill);
        out.put("step_seconds", decodeStepSeconds(model, plan, vocab));
        out.put("decoded_tokens", plan.decodeTokens());
        System.out.println(new ObjectMapper().writeValueAsString(out));
        System.out.flush();
        System.exit(0); // Jlama's executor threads are not daemons
    }

    /** The plan's time-based warm-up, as our side runs it ({@code RuntimeBench#warmUp}). Returns the rounds run. */
    private static int warmUp(AbstractModel model, BenchPlan plan, int[] prompt) {
        int rounds = 0;
        long start = System.nanoTime();
        while (plan.warmingUp(start)) {
            try (KvBufferCache caches = new KvBufferCache(model);
                 KvBufferCache.KvBuffer kv = caches.getKvBuffer(UUID.randomUUID());
                 AbstractTensor logits = model.makeDenseTensor(model.getConfig().vocabularySize)) {
                AbstractTensor last = model.batchForward(prompt, 0, kv);
                int next = model.sample(last.slice(last.shape().first() - 1), 0f, 0f, logits);
                last.close();
                int position = prompt.length;
                for (int i = 0; i < BenchPlan.WARMUP_DECODE_STEPS; i++) {
                    AbstractTensor output = model.forward(next, position++, kv, Optional.empty());
                    next = model.sample(output, 0f, 0f, logits);
                    output.close();
                }
            }
            rounds++;
        }
        return rounds;
    }

    private static double prefillSeconds(AbstractModel model, int[] prompt) {
        try (KvBufferCache caches = new KvBufferCache(model);
             KvBufferCache.KvBuffer kv = caches.getKvBuffer(UUID.randomUUID());
             AbstractTensor logits = model.makeDenseTensor(model.getConfig().vocabularySize)) {
            long t0 = System.nanoTime();
            AbstractTensor last = model.batchForward(prompt, 0, kv);
            model.sample(last.slice(last.shape().first() - 1), 0f, 0f, logits);
            long t1 = System.nanoTime();
            last.close();
            return (t1 - t0) / 1e9;
        }
    }

    private static double[] decodeStepSeconds(AbstractModel model, BenchPlan plan, int vocab) {
        int[] prompt = BenchPrompt.ids(plan.decodePromptTokens(), vocab, plan.seed() + 1);
        double[] steps = new double[plan.decodeTokens()];
        try (KvBufferCache caches = new KvBufferCache(model);
             KvBufferCache.KvBuffer kv = caches.getKvBuffer(UUID.randomUUID());
             AbstractTensor logits = model.makeDenseTensor(vocab)) {
            AbstractTensor last = model.batchForward(prompt, 0, kv);
            int next = model.sample(last.slice(last.shape().first() - 1), 0f, 0f, logits);
            last.close();
            int position = prompt.length;
            for (int i = -plan.decodeWarmups(); i < plan.decodeTokens(); i++) {
                long t0 = System.nanoTime();
                AbstractTensor output = model.forward(next, position++, kv, Optional.empty());
                next = model.sample(output, 0f, 0f, logits);
                output.close();
                if (i >= 0) {
                    steps[i] = (System.nanoTime() - t0) / 1e9;
                }
            }
        }
        return steps;
    }
}
