package dev.memlong.examples.bench;

import dev.memlong.memory.MemorySettings;
import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The result of {@code memlong bench memory}: per history length the bank's size, resident memory, retrieval cost by
 * phase and decode latency; decode latency with memory off; the targets met or not. A table for people or one JSON
 * object.
 *
 * @param kvRms             RMS of the memory layer's keys and values measured on a real overflow (the generated
 *                          history's scale)
 * @param realEmbeddings    history chunks embedded by the retriever (the rest reuse one, perturbed)
 * @param embedMsPerChunk   retriever time per really embedded history chunk (batched)
 * @param fillSeconds       time to build the longest history
 * @param before            resident memory after warm-up, before the bank is filled
 * @param noMemory          decode with memory off
 */
public record MemoryBenchReport(MemoryBenchPlan plan, MemorySettings settings, int threads, float[] kvRms,
                                int realEmbeddings, double embedMsPerChunk, double fillSeconds, ResidentMemory before,
                                List<History> histories, DecodeSteps noMemory, String loadBefore, String loadAfter) {

    static final double DECODE_RATIO_TARGET = 1.25;
    static final double SEARCH_GATHER_MS_TARGET = 15;
    /**
     * The memory filling takes (see {@link #fillFootprintBytes}) may exceed the bank's bytes by this fraction ...
     */
    static final double RSS_FILL_SLACK = 0.10;
    /** ... plus this many bytes (allocator and JVM noise). */
    static final long RSS_FILL_SLACK_BYTES = 32L << 20;
    /**
     * Resident growth over one run's timed decode steps that still counts as "nothing per step": allocator noise;
     * a leak of 128 KiB per step (one logits row) would show as 16 MiB over a 128-step run.
     */
    static final long RSS_DECODE_SLACK_BYTES = 8L << 20;

    /**
     * What a retrieval step holds here, for the report. No step of a decode run overflows the window (the plan keeps
     * the bank fixed), so a retrieval step is the query's embedding, search, gather, upload and the forward.
     */
    static final String RETRIEVAL_STEP_NOTE = "retrieval steps: the plan never overflows the window, so nothing is "
            + "stored in them; their query is embedded on the decoding thread (MemLongSequence alone; MemLongRuntime "
            + "embeds it off the device thread, so a serving step holds only search, gather, upload and forward), and "
            + "is the random-weight model's own output, whose text the retriever's tokenizer splits into far more "
            + "tokens than the prose queries of the 'emb' column (in one run 431-512 tokens against 80-93)";

    /** How the history is built, for the report. */
    static final String HISTORY_METHOD = "synthetic: chunks of generated varied prose (model tokenizer, 128 tokens each) "
            + "appended through MemoryBank.append; real bge-small embeddings for the first N chunks, later chunks reuse "
            + "one with Gaussian noise (sd " + SyntheticHistory.EMBEDDING_NOISE + " per component) renormalised; K/V random "
            + "(Irwin-Hall ~Gaussian) at the RMS of real memory-layer K/V, encoded in the bank dtype; the model is not run "
            + "over the history";

    /**
     * One history length.
     *
     * @param filled      resident memory after filling, before the retrieval calls
     * @param searched    resident memory after the retrieval-cost calls
     * @param decode      the decode runs at this length, merged
     */
    public record History(int tokens, int chunks, long bankBytes, ResidentMemory filled, RetrievalCost cost,
                          ResidentMemory searched, DecodeSteps decode) {


        /** Growth over the retrieval-cost calls. */
        long retrievalGrowthBytes() {
            return searched.rssBytes() - filled.rssBytes();
        }
    }

    /**
     * Resident growth over the fill phases up to history {@code index}: each phase from the previous length's
     * "searched" point (or {@link #before}) to this length's "filled" point. The retrieval-cost calls between fills
     * are left out (reported separately): only filling grows the bank.
     */
    long fillGrowthBytes(int index) {
        return fillPhasesGrowth(index, ResidentMemory::rssBytes);
    }

    /** The same sum for the Java heap's committed size (the rest of the resident growth is native). */
    long fillHeapCommittedGrowthBytes(int index) {
        return fillPhasesGrowth(index, ResidentMemory::heapCommittedBytes);
    }

    /** The same sum for the live Java heap (after a collection). */
    long fillHeapUsedGrowthBytes(int index) {
        return fillPhasesGrowth(index, ResidentMemory::heapUsedBytes);
    }

    /** Growth of {@code figure} summed over the fill phases up to history {@code index} (see {@link #fillGrowthBytes}). */
    private long fillPhasesGrowth(int index, java.util.function.ToLongFunction<ResidentMemory> figure) {
        long growth = 0;
        ResidentMemory from = before;
        for (int i = 0; i <= index; i++) {
            growth += figure.applyAsLong(histories.get(i).filled()) - figure.applyAsLong(from);
            from = histories.get(i).searched();
        }
        return growth;
    }

    /**
     * What filling up to history {@code index} took: the live heap's growth plus the resident growth outside the
     * heap (resident growth less the heap's committed growth, at least 0). Not the resident growth itself: G1 commits
     * heap ahead of use as it sees fit, and over the same fill of 830 MB of live heap it committed 880 to 1,596 MB in
     * five runs on the same code (resident growth 639 to 1,155 MB for a 783 MB bank), so a target on it passed or
     * failed with the collector's sizing, not with the bank. The outside part cannot be told exactly (committed heap
     * need not be resident, so it reads negative when the heap grew more than it touched; counted as 0 then), so
     * native growth smaller than the untouched committed heap goes unseen here; leaks over decoding are the decode
     * targets' concern.
     */
    long fillFootprintBytes(int index) {
        long outsideHeap = Math.max(0, fillGrowthBytes(index) - fillHeapCommittedGrowthBytes(index));
        return fillHeapUsedGrowthBytes(index) + outsideHeap;
    }

    History first() {
        return histories.get(0);
    }

    History last() {
        return histories.get(histories.size() - 1);
    }

    /** Of the ordinary steps only: p50 and p99 never see the one retrieval step of a chunk cycle. */
    double decodeP50Ratio() {
        return last().decode().p50() / first().decode().p50();
    }

    double decodeP99Ratio() {
        return last().decode().p99() / first().decode().p99();
    }

    /** Per-token cost (mean over whole chunk cycles, retrieval steps included), longest history over shortest. */
    double perTokenRatio() {
        return last().decode().perTokenMs() / first().decode().perTokenMs();
    }

    /** The retrieval steps' percentile, longest history over shortest; null when either has none. */
    Double retrievalStepRatio(double p) {
        Double longest = last().decode().retrievalStepMs(p);
        Double shortest = first().decode().retrievalStepMs(p);
        return longest == null || shortest == null ? null : longest / shortest;
    }

    /**
     * Whether resident memory was read at all: {@link ResidentMemory#currentRssBytes} is -1 where there is no
     * {@code /proc/self/status} (not Linux), and differences of -1 would read as "no growth", a target met.
     */
    boolean rssMeasured() {
        return before.rssBytes() >= 0;
    }

    /** Null (not measured) without resident memory figures. */
    Boolean rssFillMet(int index) {
        if (!rssMeasured()) {
            return null;
        }
        return fillFootprintBytes(index) <= histories.get(index).bankBytes() * (1 + RSS_FILL_SLACK) + RSS_FILL_SLACK_BYTES;
    }

    /** Null (not measured) without resident memory figures. */
    Boolean rssDecodeMet(DecodeSteps d) {
        if (!rssMeasured()) {
            return null;
        }
        return d.steadyMaxRssGrowthBytes() <= RSS_DECODE_SLACK_BYTES;
    }

    /** {@code value} where resident memory was measured, else null. */
    private Object rss(java.util.function.Supplier<Object> value) {
        return rssMeasured() ? value.get() : null;
    }

    /** The JSON object {@code --json} prints. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        // p50 and p99 of the decode steps leave out the one retrieval step per chunk (1 in 128): the per-token mean
        // over whole chunk cycles and the retrieval steps' own percentiles are the figures that show retrieval
        m.put("decode_ms_p50", perHistory(h -> h.decode().p50()));
        m.put("decode_ms_p99", perHistory(h -> h.decode().p99()));
        m.put("decode_ms_p50_no_memory", noMemory.p50());
        m.put("decode_ms_p99_no_memory", noMemory.p99());
        m.put("decode_ms_per_token", perHistory(h -> h.decode().perTokenMs()));
        m.put("decode_ms_per_token_no_memory", noMemory.perTokenMs());
        m.put("retrieval_step_ms_p50", perHistory(h -> h.decode().retrievalStepMs(50)));
        m.put("retrieval_step_ms_p99", perHistory(h -> h.decode().retrievalStepMs(99)));
        m.put("retrieval_steps", perHistory(h -> h.decode().retrievalSteps()));
        m.put("search_gather_ms_p50", perHistory(h -> Samples.percentile(h.cost().searchGatherMs(), 50)));
        m.put("search_gather_ms_p99", perHistory(h -> Samples.percentile(h.cost().searchGatherMs(), 99)));
        m.put("search_ms_p50", perHistory(h -> Samples.percentile(h.cost().searchMs(), 50)));
        m.put("search_ms_p99", perHistory(h -> Samples.percentile(h.cost().searchMs(), 99)));
        m.put("gather_ms_p50", perHistory(h -> Samples.percentile(h.cost().gatherMs(), 50)));
        m.put("gather_ms_p99", perHistory(h -> Samples.percentile(h.cost().gatherMs(), 99)));
        m.put("upload_ms_p50", perHistory(h -> Samples.percentile(h.cost().uploadMs(), 50)));
        m.put("upload_ms_p99", perHistory(h -> Samples.percentile(h.cost().uploadMs(), 99)));
        m.put("embed_ms_p50", perHistory(h -> Samples.percentile(h.cost().embedMs(), 50)));
        m.put("embed_ms_p99", perHistory(h -> Samples.percentile(h.cost().embedMs(), 99)));
        m.put("rss_measured", rssMeasured());
        m.put("rss_mb", rss(() -> perHistory(h -> ResidentMemory.mb(h.filled().rssBytes()))));
        m.put("rss_mb_before_fill", rss(() -> ResidentMemory.mb(before.rssBytes())));
        m.put("bank_mb", perHistory(h -> ResidentMemory.mb(h.bankBytes())));
        m.put("rss_growth_mb", rss(() -> perIndex(i -> ResidentMemory.mb(fillGrowthBytes(i)))));
        m.put("rss_growth_over_bank", rss(() -> perIndex(i -> fillGrowthBytes(i) / (double) histories.get(i).bankBytes())));
        m.put("fill_footprint_mb", rss(() -> perIndex(i -> ResidentMemory.mb(fillFootprintBytes(i)))));
        m.put("fill_footprint_over_bank", rss(() -> perIndex(i -> fillFootprintBytes(i)
                / (double) histories.get(i).bankBytes())));
        m.put("rss_growth_heap_committed_mb", perIndex(i -> ResidentMemory.mb(fillHeapCommittedGrowthBytes(i))));
        m.put("rss_growth_native_mb", rss(() -> perIndex(i -> ResidentMemory.mb(fillGrowthBytes(i)
                - fillHeapCommittedGrowthBytes(i)))));
        m.put("rss_decode_growth_mb_max_per_run",
                rss(() -> perHistory(h -> ResidentMemory.mb(h.decode().maxRssGrowthBytes()))));
        m.put("rss_decode_growth_mb_max_per_run_no_memory", rss(() -> ResidentMemory.mb(noMemory.maxRssGrowthBytes())));
        m.put("rss_decode_growth_mb_max_per_run_after_first_round",
                rss(() -> perHistory(h -> ResidentMemory.mb(h.decode().steadyMaxRssGrowthBytes()))));
        m.put("rss_retrieval_calls_growth_mb", rss(() -> perHistory(h -> ResidentMemory.mb(h.retrievalGrowthBytes()))));
        m.put("heap_used_growth_over_bank", perHistory(h -> (h.filled().heapUsedBytes() - before.heapUsedBytes())
                / (double) h.bankBytes()));
        m.put("heap_used_mb", perHistory(h -> ResidentMemory.mb(h.filled().heapUsedBytes())));
        m.put("heap_committed_mb", perHistory(h -> ResidentMemory.mb(h.filled().heapCommittedBytes())));
        m.put("heap_used_mb_before_fill", ResidentMemory.mb(before.heapUsedBytes()));
        m.put("heap_committed_mb_before_fill", ResidentMemory.mb(before.heapCommittedBytes()));
        m.put("fill_s", fillSeconds);
        m.put("chunks", perHistory(History::chunks));
        m.put("decode", perHistory(h -> h.decode().toMap(rssMeasured())));
        m.put("decode_no_memory", noMemory.toMap(rssMeasured()));
        m.put("decode_p50_ratio_longest_vs_shortest", decodeP50Ratio());
        m.put("decode_p99_ratio_longest_vs_shortest", decodeP99Ratio());
        m.put("decode_per_token_ratio_longest_vs_shortest", perTokenRatio());
        m.put("retrieval_step_p50_ratio_longest_vs_shortest", retrievalStepRatio(50));
        m.put("retrieval_step_p99_ratio_longest_vs_shortest", retrievalStepRatio(99));
        m.put("targets", targets());
        Map<String, Object> setup = new LinkedHashMap<>();
        setup.put("model", "llama-110m (memlong bench decode's random-weight checkpoint), float32");
        setup.put("threads", threads);
        setup.put("omp_wait_policy", DecodeBenchReport.ompWaitPolicy());
        setup.put("window", settings.localWindow());
        setup.put("chunk_size", settings.chunkSize());
        setup.put("top_k", settings.topK());
        setup.put("memory_layer", settings.memoryLayer());
        setup.put("retrieval_layers", settings.retrievalLayers());
        setup.put("kv_dtype", settings.kvDType().name().toLowerCase(Locale.ROOT));
        setup.put("capacity_tokens", settings.capacityTokens());
        setup.put("prompt_tokens", plan.promptTokens());
        setup.put("warmup_steps", plan.warmupSteps());
        setup.put("decode_steps", plan.decodeSteps());
        setup.put("rounds", plan.rounds());
        setup.put("decode_chunk_cycles_per_round", plan.decodeStepsPerRound() / settings.chunkSize());
        setup.put("query_texts", plan.queryTexts());
        setup.put("retrieval_calls", plan.retrievalCalls());
        setup.put("history_method", HISTORY_METHOD);
        setup.put("retrieval_step_note", RETRIEVAL_STEP_NOTE);
        setup.put("real_embeddings", realEmbeddings);
        setup.put("embed_ms_per_history_chunk", embedMsPerChunk);
        setup.put("kv_rms", Map.of("keys", kvRms[0], "values", kvRms[1]));
        setup.put("percentiles", "nearest rank");
        setup.put("java_version", Runtime.version().toString());
        setup.put("jvm_heap", jvmHeapFlags());
        setup.put("cpus", Runtime.getRuntime().availableProcessors());
        setup.put("load_avg_before", loadBefore);
        setup.put("load_avg_after", loadAfter);
        m.put("setup", setup);
        return m;
    }

    /**
     * Each target met (true), not met (false) or not measured (null). Decode latency is judged on the per-token cost
     * over whole chunk cycles and on the retrieval steps themselves, the only steps whose cost depends on the history's
     * length; p50 and p99 of all steps leave the retrieval steps out (one in 128), so a target on them held whatever
     * retrieval cost.
     */
    Map<String, Object> targets() {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("decode_per_token_longest_within_1_25x_of_shortest", perTokenRatio() <= DECODE_RATIO_TARGET);
        t.put("retrieval_step_p50_longest_within_1_25x_of_shortest", within(retrievalStepRatio(50)));
        t.put("retrieval_step_p99_longest_within_1_25x_of_shortest", within(retrievalStepRatio(99)));
        double sgP50 = Samples.percentile(last().cost().searchGatherMs(), 50);
        double sgP99 = Samples.percentile(last().cost().searchGatherMs(), 99);
        t.put("search_gather_p50_longest_under_15_ms", sgP50 < SEARCH_GATHER_MS_TARGET);
        t.put("search_gather_p99_longest_under_15_ms", sgP99 < SEARCH_GATHER_MS_TARGET);
        t.put("fill_footprint_within_bank_bytes_plus_10pct_32mb", !rssMeasured() ? null
                : java.util.stream.IntStream.range(0, histories.size()).allMatch(i -> rssFillMet(i)));
        t.put("rss_decode_growth_per_run_after_first_round_under_8mb", !rssMeasured() ? null
                : histories.stream().allMatch(h -> rssDecodeMet(h.decode())) && rssDecodeMet(noMemory));
        return t;
    }

    private static Boolean within(Double ratio) {
        return ratio == null ? null : ratio <= DECODE_RATIO_TARGET;
    }

    private Map<String, Object> perIndex(java.util.function.IntFunction<Object> f) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < histories.size(); i++) {
            m.put(String.valueOf(histories.get(i).tokens()), f.apply(i));
        }
        return m;
    }

    private Map<String, Object> perHistory(Function<History, Object> f) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (History h : histories) {
            m.put(String.valueOf(h.tokens()), f.apply(h));
        }
        return m;
    }

    /** The human-readable table. */
    public void printTable(PrintStream out) {
        out.printf(Locale.ROOT, "memlong bench memory: llama-110m, window %d, chunk %d, top-k %d, kv %s, %d threads, "
                        + "prompt %d + %d decode steps; load %s -> %s%n", settings.localWindow(), settings.chunkSize(),
                settings.topK(), settings.kvDType(), threads, plan.promptTokens(), plan.decodeSteps(), loadBefore, loadAfter);
        out.println("history: " + HISTORY_METHOD + " (" + realEmbeddings + " real embeddings)");
        out.printf(Locale.ROOT, "%-9s %8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s%n", "history", "chunks",
                "ms/token", "dec p50", "dec p99", "retr p50", "retr p99", "srch p50", "gath p50", "s+g p50", "s+g p99",
                "upld p50", "emb p50", "bank MB", "RSS+ MB");
        for (int i = 0; i < histories.size(); i++) {
            History h = histories.get(i);
            RetrievalCost c = h.cost();
            out.printf(Locale.ROOT, "%-9d %8d %9.2f %9.2f %9.2f %9s %9s %9.3f %9.3f %9.3f %9.3f %9.3f %9.1f %9.1f %9s%n",
                    h.tokens(), h.chunks(), h.decode().perTokenMs(), h.decode().p50(), h.decode().p99(),
                    ms(h.decode().retrievalStepMs(50)), ms(h.decode().retrievalStepMs(99)),
                    Samples.percentile(c.searchMs(), 50), Samples.percentile(c.gatherMs(), 50),
                    Samples.percentile(c.searchGatherMs(), 50), Samples.percentile(c.searchGatherMs(), 99),
                    Samples.percentile(c.uploadMs(), 50), Samples.percentile(c.embedMs(), 50),
                    ResidentMemory.mb(h.bankBytes()),
                    rssMeasured() ? String.format(Locale.ROOT, "%.1f", ResidentMemory.mb(fillGrowthBytes(i))) : "-");
        }
        out.printf(Locale.ROOT, "%-9s %8s %9.2f %9.2f %9.2f%n", "no memory", "-", noMemory.perTokenMs(), noMemory.p50(),
                noMemory.p99());
        out.println("ms/token: mean over whole chunk cycles, one retrieval step each; retr: the retrieval steps alone");
        for (History h : histories) {
            Map<String, Object> b = h.decode().retrievalStepBreakdownMs();
            if (b != null) {
                out.printf(Locale.ROOT, "retrieval step at %d (mean of %d): %.2f ms = query embedding %.2f + search %.2f "
                                + "+ gather %.2f + upload %.2f + forward %.2f; query %.0f chars%n", h.tokens(),
                        (Integer) b.get("steps"), (Double) b.get("step"), (Double) b.get("query_embedding"),
                        (Double) b.get("search"), (Double) b.get("gather"), (Double) b.get("upload"),
                        (Double) b.get("forward"), (Double) b.get("query_chars"));
            }
        }
        out.println(RETRIEVAL_STEP_NOTE);
        if (rssMeasured()) {
            out.printf(Locale.ROOT, "resident: before fill %.1f MB; growth over each decode run's timed steps (MB, by round):",
                    ResidentMemory.mb(before.rssBytes()));
            for (History h : histories) {
                out.printf(Locale.ROOT, " %d: %s", h.tokens(), growths(h.decode()));
            }
            out.printf(Locale.ROOT, " memory off: %s%n", growths(noMemory));
        } else {
            out.println("resident memory: not measured (no /proc/self/status on this system)");
        }
        targets().forEach((k, v) -> out.printf(Locale.ROOT, "target %-52s %s%n", k,
                v == null ? "not measured" : Boolean.TRUE.equals(v) ? "met" : "NOT met"));
    }

    private static String ms(Double value) {
        return value == null ? "-" : String.format(Locale.ROOT, "%.2f", value);
    }

    /**
     * The JVM flags that decide how much heap stays committed beside the live data after a full collection (the bank
     * lives on the heap, so its resident cost is its bytes plus this headroom), and the collectors.
     */
    static Map<String, Object> jvmHeapFlags() {
        Map<String, Object> m = new LinkedHashMap<>();
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            for (String flag : new String[] {"MinHeapFreeRatio", "MaxHeapFreeRatio", "MaxHeapSize"}) {
                m.put(flag, hotspot.getVMOption(flag).getValue());
            }
        } catch (RuntimeException e) {
            m.put("error", String.valueOf(e.getMessage()));
        }
        m.put("collectors", ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName).toList());
        return m;
    }

    private static String growths(DecodeSteps d) {
        StringBuilder b = new StringBuilder();
        for (long g : d.rssGrowthBytes()) {
            b.append(b.length() == 0 ? "" : "/").append(String.format(Locale.ROOT, "%+.1f", ResidentMemory.mb(g)));
        }
        return b.toString();
    }

    /** {@code /proc/loadavg}'s three load averages, or "unknown". */
    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
