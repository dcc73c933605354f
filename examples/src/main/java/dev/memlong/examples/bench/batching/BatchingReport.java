package dev.memlong.examples.bench.batching;

import ai.djl.ndarray.types.DataType;
import dev.memlong.examples.bench.MachineProbe;
import dev.memlong.examples.bench.ModelShape;
import dev.memlong.examples.bench.Roofline;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The batching benchmark's result against the targets. The roofline of a decode step of batch {@code B} is
 * {@code max((weight bytes + B x context x K/V bytes per token) / bandwidth, B x FLOPs per token / matmul throughput)}:
 * every step reads the float32 weights once (as in {@code bench decode}) and each sequence's cached keys and values
 * (since session 13: at 32 sequences of ~100 tokens they are ~240 MB against the weights' 440 MB), and does each row's
 * matmuls (2 FLOPs per weight, LM head included) and attention over its context; the roofline tok/s is {@code B} over
 * that time. Bandwidth and matmul throughput are the higher of PyTorch's and the runtime's own kernel's
 * ({@link MachineProbe}). {@code longPrompt} is null when
 * that part was skipped.
 */
public record BatchingReport(ModelShape shape, int threads, MachineProbe.Result machine, DataType kvCacheType,
                             Map<Integer, Double> modelStepSeconds, Map<Integer, TierFigures> tiers,
                             LongPromptFigures longPrompt) {

    /** FLOPs of one decode token at context {@code context}: layer matmuls, LM head, attention (QK and PV). */
    static double decodeFlopsPerToken(ModelShape s, double context) {
        return 2.0 * (s.layers() * s.layerMatmulParameters() + s.embeddingParameters())
                + 2.0 * 2 * s.hidden() * context * s.layers();
    }

    /**
     * The roofline tok/s at a concurrency, at the tier's measured mean context (until session 13 the prompt plus
     * half the decoded tokens, which missed what early conversations decode while later ones are admitted).
     */
    double rooflineTokS(TierFigures t) {
        double context = t.meanContextTokens();
        double memory = (Roofline.decodeBytesPerToken(shape)
                + t.concurrency() * context * Roofline.kvBytesPerToken(shape, kvCacheType.getNumOfBytes()))
                / machine.bandwidthBytesPerS();
        double compute = t.concurrency() * decodeFlopsPerToken(shape, context) / machine.matmulFlopsPerS();
        return t.concurrency() / Math.max(memory, compute);
    }

    double speedup32() {
        TierFigures one = tiers.get(1);
        TierFigures many = tiers.get(32);
        return one == null || many == null ? Double.NaN : many.tokS() / one.tokS();
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_parameters", shape.parameters());
        m.put("threads", threads);
        m.put("kv_cache_dtype", kvCacheType.toString());
        m.putAll(machine.toMap());
        m.put("tokens_per_conversation", perTier(t -> t.tokensPerConversation()));
        // the context the roofline and the model-alone steps are taken at: each tier's measured mean
        m.put("mean_context_tokens", perTier(TierFigures::meanContextTokens));
        m.put("tok_s", perTier(TierFigures::tokS));
        m.put("itl_ms_p50", perTier(TierFigures::itlP50Ms));
        m.put("itl_ms_p99", perTier(TierFigures::itlP99Ms));
        m.put("itl_samples", perTier(TierFigures::samples));
        m.put("roofline_tok_s", perTier(this::rooflineTokS));
        m.put("roofline_fraction", perTier(t -> t.tokS() / rooflineTokS(t)));
        m.put("model_only_step_ms", perTier(t -> modelStepSeconds.getOrDefault(t.concurrency(), Double.NaN) * 1e3));
        m.put("model_only_tok_s", perTier(t -> t.concurrency() / modelStepSeconds.getOrDefault(t.concurrency(),
                Double.NaN)));
        m.put("model_only_roofline_fraction", perTier(t -> t.concurrency()
                / modelStepSeconds.getOrDefault(t.concurrency(), Double.NaN) / rooflineTokS(t)));
        m.put("scheduler_vs_model_only", perTier(t -> t.tokS() * modelStepSeconds.getOrDefault(t.concurrency(),
                Double.NaN) / t.concurrency()));
        m.put("speedup_32", speedup32());
        if (tiers.containsKey(1) && tiers.containsKey(32)) {
            m.put("itl_p99_32_over_p50_1", tiers.get(32).itlP99Ms() / tiers.get(1).itlP50Ms());
        }
        if (longPrompt == null) {
            return m;
        }
        m.put("long_prompt_tokens", longPrompt.promptTokens());
        m.put("long_prompt_concurrency", BatchingBench.LONG_PROMPT_CONCURRENCY);
        m.put("long_prompt_prefill_s", longPrompt.seconds());
        m.put("long_prompt_itl_ms_p99_without", longPrompt.p99WithoutMs());
        m.put("long_prompt_itl_ms_p99_with", longPrompt.p99WithMs());
        m.put("long_prompt_itl_ms_p50_without", longPrompt.p50WithoutMs());
        m.put("long_prompt_itl_ms_p50_with", longPrompt.p50WithMs());
        m.put("long_prompt_p99_ratio", longPrompt.ratio());
        m.put("prefill_tokens_per_step", BatchingBench.PREFILL_TOKENS_PER_STEP);
        m.put("retriever", "hashing (bench; no ONNX embedding on the device thread)");
        return m;
    }

    private Map<String, Object> perTier(ToDoubleFunction<TierFigures> f) {
        Map<String, Object> m = new LinkedHashMap<>();
        tiers.forEach((c, t) -> m.put(String.valueOf(c), f.applyAsDouble(t)));
        return m;
    }

    public void printTable(PrintStream out) {
        out.printf("%d-parameter model, %d threads, %.1f GB/s, %.1f GFLOP/s%n", shape.parameters(), threads,
                machine.bandwidthBytesPerS() / 1e9, machine.matmulFlopsPerS() / 1e9);
        out.printf("%6s %8s %10s %10s %10s %10s %9s %12s%n", "conv", "tokens", "tok/s", "ITL p50", "ITL p99",
                "roofline", "fraction", "model alone");
        tiers.forEach((c, t) -> out.printf("%6d %8d %10.1f %8.1fms %8.1fms %10.1f %8.0f%% %8.1ftok/s%n", c,
                t.tokensPerConversation(), t.tokS(), t.itlP50Ms(), t.itlP99Ms(), rooflineTokS(t),
                100 * t.tokS() / rooflineTokS(t), c / modelStepSeconds.getOrDefault(c, Double.NaN)));
        out.printf("speedup at 32: %.2fx (target >= 6)%n", speedup32());
        if (longPrompt == null) {
            return;
        }
        out.printf("long prompt (%d tokens, %.1f s) at %d conversations: ITL p99 %.1f -> %.1f ms, ratio %.2f "
                        + "(target < 2)%n", longPrompt.promptTokens(), longPrompt.seconds(),
                BatchingBench.LONG_PROMPT_CONCURRENCY, longPrompt.p99WithoutMs(), longPrompt.p99WithMs(),
                longPrompt.ratio());
    }
}
