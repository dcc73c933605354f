package dev.memlong.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's result: the machine, the rooflines, our figures, Jlama's, and the targets met or not. Rendered as a
 * table for people or as one JSON object.
 *
 * @param jlama null when Jlama was skipped or failed; {@code jlamaError} then says why
 */
public record DecodeBenchReport(ModelShape shape, BenchPlan plan, int threads, MachineProbe.Result machine,
                                RunFigures ours, JlamaChild.Result jlama, String jlamaError) {

    static final double DECODE_ROOFLINE_TARGET = 0.60;
    static final double PREFILL_ROOFLINE_TARGET = 0.50;
    static final double JLAMA_TARGET = 1.0;

    public double decodeRooflineTokPerS() {
        return Roofline.decodeTokensPerSecond(shape, machine.bandwidthBytesPerS());
    }

    public double prefillRooflineTokPerS() {
        return Roofline.prefillTokensPerSecond(shape, plan.prefillTokens(), machine.matmulFlopsPerS());
    }

    public double decodeRooflineFraction() {
        return Roofline.fraction(ours.decodeTokPerS(), decodeRooflineTokPerS());
    }

    public double prefillRooflineFraction() {
        return Roofline.fraction(ours.prefillTokPerS(), prefillRooflineTokPerS());
    }

    /** The JSON object {@code --json} prints (ratios and Jlama's figures null when Jlama did not run). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.putAll(machine.toMap());
        m.putAll(ours.toMap(""));
        m.put("decode_roofline_tok_s", decodeRooflineTokPerS());
        m.put("decode_roofline_fraction", decodeRooflineFraction());
        m.put("prefill_roofline_tok_s", prefillRooflineTokPerS());
        m.put("prefill_roofline_fraction", prefillRooflineFraction());
        if (jlama != null) {
            m.putAll(jlama.figures().toMap("jlama_"));
            m.put("decode_vs_jlama", ours.decodeTokPerS() / jlama.figures().decodeTokPerS());
            m.put("prefill_vs_jlama", ours.prefillTokPerS() / jlama.figures().prefillTokPerS());
            m.put("jlama_details", jlama.details());
        } else {
            for (String k : new String[] {"jlama_prefill_tok_s", "jlama_decode_tok_s", "decode_vs_jlama", "prefill_vs_jlama"}) {
                m.put(k, null);
            }
            m.put("jlama_error", jlamaError);
        }
        m.put("targets", targets());
        m.put("threads", threads);
        m.put("omp_wait_policy", ompWaitPolicy());
        m.put("java_version", Runtime.version().toString());
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        m.put("model_params", shape.parameters());
        m.put("decode_weight_bytes_per_token", Roofline.decodeBytesPerToken(shape));
        m.put("prefill_flops", Roofline.prefillFlops(shape, plan.prefillTokens()));
        m.put("prefill_tokens", plan.prefillTokens());
        m.put("decode_prompt_tokens", plan.decodePromptTokens());
        m.put("warmup_seconds_each_side", plan.warmupSeconds());
        m.put("dtype", "float32");
        return m;
    }

    private Map<String, Object> targets() {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("decode_roofline_fraction_ge_0_6", decodeRooflineFraction() >= DECODE_ROOFLINE_TARGET);
        t.put("prefill_roofline_fraction_ge_0_5", prefillRooflineFraction() >= PREFILL_ROOFLINE_TARGET);
        t.put("decode_vs_jlama_ge_1", jlama == null ? null : ours.decodeTokPerS() / jlama.figures().decodeTokPerS() >= JLAMA_TARGET);
        return t;
    }

    /** The human-readable table. */
    public void printTable(PrintStream out) {
        out.printf(Locale.ROOT, "memlong bench decode: %.1fM-param LLaMA (hidden %d, %d layers, %d heads, vocab %d), float32, %d threads, Java %s%n",
                shape.parameters() / 1e6, shape.hidden(), shape.layers(), shape.heads(), shape.vocab(), threads, Runtime.version());
        out.printf(Locale.ROOT, "OMP_WAIT_POLICY=%s (libgomp; PASSIVE helps a lot when other processes load the cores)%n", ompWaitPolicy());
        out.printf(Locale.ROOT, "machine   bandwidth %.1f GB/s (%s)%n", machine.bandwidthBytesPerS() / 1e9, machine.bandwidthMethod());
        out.printf(Locale.ROOT, "          matmul    %.1f GFLOP/s (%s)%n", machine.matmulFlopsPerS() / 1e9, machine.matmulMethod());
        out.printf(Locale.ROOT, "roofline  decode  %.1f tok/s (%.0f MB of weights per token)%n", decodeRooflineTokPerS(),
                Roofline.decodeBytesPerToken(shape) / 1e6);
        out.printf(Locale.ROOT, "          prefill %.1f tok/s (%.1f GFLOP for %d tokens)%n", prefillRooflineTokPerS(),
                Roofline.prefillFlops(shape, plan.prefillTokens()) / 1e9, plan.prefillTokens());
        out.println();
        out.printf(Locale.ROOT, "%-28s %12s %12s %10s%n", "", "memlong", "jlama", "ours/jlama");
        row(out, "prefill " + plan.prefillTokens() + " tok (tok/s)", ours.prefillTokPerS(), jlama == null ? null : jlama.figures().prefillTokPerS());
        row(out, "decode " + plan.decodeTokens() + " tok (tok/s)", ours.decodeTokPerS(), jlama == null ? null : jlama.figures().decodeTokPerS());
        row(out, "decode, median step (tok/s)", ours.decodeMedianStepTokPerS(),
                jlama == null ? null : jlama.figures().decodeMedianStepTokPerS());
        out.println();
        target(out, "decode  >= 60% of bandwidth roofline", decodeRooflineFraction(), DECODE_ROOFLINE_TARGET, "%.0f%%", 100);
        target(out, "prefill >= 50% of matmul roofline", prefillRooflineFraction(), PREFILL_ROOFLINE_TARGET, "%.0f%%", 100);
        if (jlama != null) {
            target(out, "decode  >= 1.0x Jlama", ours.decodeTokPerS() / jlama.figures().decodeTokPerS(), JLAMA_TARGET, "%.2fx", 1);
            JsonNode d = jlama.details();
            out.printf(Locale.ROOT, "jlama: weights %s, working memory %s, %s threads, %s%n", d.path("model_dtype").asText(),
                    d.path("working_dtype").asText(), d.path("threads").asText(), d.path("tensor_operations").asText());
        } else {
            out.println("jlama: not measured: " + jlamaError);
        }
    }

    /** PyTorch's OpenMP wait policy from the environment ("unset" means libgomp's default spinning). */
    static String ompWaitPolicy() {
        String v = System.getenv("OMP_WAIT_POLICY");
        return v == null ? "unset" : v;
    }

    private static void row(PrintStream out, String label, double ours, Double jlama) {
        out.printf(Locale.ROOT, "%-28s %12.1f %12s %10s%n", label, ours,
                jlama == null ? "-" : String.format(Locale.ROOT, "%.1f", jlama),
                jlama == null ? "-" : String.format(Locale.ROOT, "%.2fx", ours / jlama));
    }

    private static void target(PrintStream out, String label, double value, double goal, String fmt, double scale) {
        out.printf(Locale.ROOT, "target %-38s %8s  %s%n", label, String.format(Locale.ROOT, fmt, value * scale),
                value >= goal ? "met" : "NOT met");
    }
}
