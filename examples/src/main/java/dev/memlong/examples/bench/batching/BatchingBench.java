package dev.memlong.examples.bench.batching;

import ai.djl.ndarray.types.DataType;
import dev.memlong.runtime.model.ModelOptions;
import dev.memlong.runtime.retriever.HashingRetriever;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.Conversation;
import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.MemLongRuntime;
import dev.memlong.examples.bench.BenchCheckpoint;
import dev.memlong.examples.bench.BenchPrompt;
import dev.memlong.examples.bench.MachineProbe;
import dev.memlong.examples.bench.ModelShape;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs {@code memlong bench batching}: for each concurrency, that many conversations decode at once through a fresh
 * {@link MemLongRuntime} (one CPU device, the ~110M checkpoint); then, at {@link #LONG_PROMPT_CONCURRENCY}, a
 * 4,000-token prompt arrives mid-run. Token times are taken where a caller sees them (the stream subscriber).
 *
 * <p>Per concurrency: {@code tok_s} counts the tokens that arrived while every conversation was decoding (from the
 * last conversation's first token until each had {@link #tokensPerConversation} more), over that window; the
 * inter-token latencies are the gaps that ended in it. The model alone ({@link ModelSteps}: the same batch as one
 * forward per step, no actors, at the tier's mean context) is timed after the tiers, which separates the scheduler's
 * overhead from the model's.
 *
 * @param dataDir where the checkpoint is kept ({@code DATA/bench/llama-110m})
 * @param threads    PyTorch intra-op threads
 * @param longPrompt whether to run the long-prompt part
 * @param kvCacheType what the KV caches store: float32, or bfloat16 ({@code --kv-cache-dtype})
 */
public record BatchingBench(Path dataDir, int threads, List<Integer> concurrencies, boolean longPrompt,
                            DataType kvCacheType, Consumer<String> log) {

    /** Concurrency of the long-prompt run. */
    static final int LONG_PROMPT_CONCURRENCY = 16;
    /** Tokens of the prompt that arrives mid-run. */
    static final int LONG_PROMPT_TOKENS = 4000;
    /** Prompt tokens each conversation starts with. */
    static final int PROMPT_TOKENS = 32;
    /**
     * Tokens the prompt's context holds beyond {@link #PROMPT_TOKENS}: the chat template's and the re-encoding's (the
     * roofline in {@link BatchingReport} counts the same 8).
     */
    static final int PROMPT_TEMPLATE_TOKENS = 8;
    /**
     * Prompt tokens a step may add beyond its decode tokens: on a CPU, decode at these batch sizes is already
     * compute-bound, so each prompt token in a step costs about what a decode row does.
     */
    static final int PREFILL_TOKENS_PER_STEP = 16;

    /**
     * Decode tokens per conversation measured once all are decoding, at every concurrency: enough steps for a p99.
     * Each step gives every running conversation one gap, so over {@code n} steps the p99 of the gaps is the step at
     * rank 0.99 n: with 32 steps (this bench's count at 32 conversations until session 8) that is the slowest step of
     * the window, one garbage collection or one descheduling of this VM, not a 99th percentile. 128 steps take about 7
     * s at 32 conversations and 14 s at 64 here, and stay far inside the local window (32 prompt tokens + 128).
     */
    static int tokensPerConversation(int concurrency) {
        return 128;
    }

    public BatchingReport run() {
        ModelShape shape = ModelShape.llama110m();
        Path dir = BenchCheckpoint.ensure(BenchCheckpoint.directory(dataDir), shape, 42, log);
        Engines.pytorch();
        if (JniUtils.getNumThreads() != threads) {
            throw new IllegalStateException("PyTorch runs " + JniUtils.getNumThreads() + " threads, not " + threads);
        }
        log.accept("measuring memory bandwidth and matmul throughput ...");
        MachineProbe.Result machine = MachineProbe.measure();
        log.accept(String.format("  %.1f GB/s, %.1f GFLOP/s", machine.bandwidthBytesPerS() / 1e9,
                machine.matmulFlopsPerS() / 1e9));
        Map<Integer, TierFigures> tiers = new LinkedHashMap<>();
        try (TextTokenizer tokenizer = Tokenizers.open(dir)) {
            for (int c : concurrencies) {
                TierFigures t = tier(dir, tokenizer, c, tokensPerConversation(c));
                log.accept(String.format("  %d conversations: %.1f tok/s, ITL p50 %.1f ms, p99 %.1f ms, mean context "
                        + "%.0f tokens", c, t.tokS(), t.itlP50Ms(), t.itlP99Ms(), t.meanContextTokens()));
                tiers.put(c, t);
            }
            // after the tiers, at each tier's mean context: at the prompt's length it read a cache far shorter than
            // the tiers' (40-55 tokens against prompt + 64 to 192), which flattered the model alone
            log.accept("the model alone: one decode forward per step at each batch size, at its tier's mean context ...");
            Map<Integer, Integer> contexts = new LinkedHashMap<>();
            tiers.forEach((c, t) -> contexts.put(c, (int) Math.round(t.meanContextTokens())));
            Map<Integer, Double> modelSteps = ModelSteps.measure(dir, contexts,
                    new ModelOptions(ai.djl.Device.cpu(), DataType.FLOAT32, kvCacheType));
            modelSteps.forEach((b, s) -> log.accept(String.format("  batch %d at context %d: %.1f ms per step, %.1f tok/s",
                    b, contexts.get(b), s * 1e3, b / s)));
            LongPromptFigures lp = null;
            if (longPrompt) {
                lp = longPrompt(dir, tokenizer);
                log.accept(String.format("  long prompt (%d tokens) at %d conversations: p99 ITL %.1f -> %.1f ms "
                        + "(x%.2f)", lp.promptTokens(), LONG_PROMPT_CONCURRENCY, lp.p99WithoutMs(), lp.p99WithMs(),
                        lp.ratio()));
            }
            return new BatchingReport(shape, threads, probeAgain(machine), kvCacheType, modelSteps, tiers, lp);
        }
    }

    /**
     * The probes once more after the measurements, keeping the higher figures: this machine's memory bandwidth moved
     * between 46 and 74 GB/s from one run to the next (other tenants), and a probe taken in a slow moment made a
     * ceiling that the measurements beat (1.03 of it at one conversation).
     */
    private MachineProbe.Result probeAgain(MachineProbe.Result first) {
        log.accept("measuring memory bandwidth and matmul throughput again ...");
        MachineProbe.Result again = MachineProbe.measure();
        log.accept(String.format("  %.1f GB/s, %.1f GFLOP/s", again.bandwidthBytesPerS() / 1e9,
                again.matmulFlopsPerS() / 1e9));
        return first.higher(again);
    }

    /**
     * {@code concurrency} conversations decode at once on a fresh runtime until each has decoded {@code tokens}
     * tokens after the moment all of them were decoding; the figures cover only that steady window (prompts are
     * admitted a few per step, decode first, so the conversations start decoding at different steps).
     */
    private TierFigures tier(Path model, TextTokenizer tokenizer, int concurrency, int tokens) {
        log.accept("  " + concurrency + " conversations x " + tokens + " tokens ...");
        try (Scratch scratch = new Scratch(); MemLongRuntime rt = runtime(model, scratch.dir, concurrency)) {
            warmUp(rt, tokenizer);
            GenerationParams endless = GenerationParams.greedy(100_000).withIgnoreEos(true);
            List<TokenClock> clocks = new ArrayList<>();
            for (int i = 0; i < concurrency; i++) {
                clocks.add(TokenClock.start(rt.conversation("bench", "c" + concurrency + "-" + i),
                        prompt(tokenizer, PROMPT_TOKENS, i), endless));
            }
            long from = waitUntil(clocks, c -> c.times().length >= 1);
            long to = waitUntil(clocks, c -> after(c.times(), from) >= tokens);
            clocks.forEach(TokenClock::cancel);
            return TierFigures.of(concurrency, tokens, clocks.stream().map(TokenClock::times).toList(), from, to,
                    PROMPT_TOKENS + PROMPT_TEMPLATE_TOKENS);
        }
    }

    private static int after(long[] times, long from) {
        int n = 0;
        for (long t : times) {
            n += t > from ? 1 : 0;
        }
        return n;
    }

    /** Polls until every clock meets {@code condition}; returns when (the last token time seen). */
    private static long waitUntil(List<TokenClock> clocks, java.util.function.Predicate<TokenClock> condition) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
        while (!clocks.stream().allMatch(condition)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the conversations did not get there in 5 minutes");
            }
            sleep(5);
        }
        long last = Long.MIN_VALUE;
        for (TokenClock c : clocks) {
            long[] t = c.times();
            last = Math.max(last, t[t.length - 1]);
        }
        return last;
    }

    /**
     * {@value #LONG_PROMPT_CONCURRENCY} conversations decode; after a few seconds a {@value #LONG_PROMPT_TOKENS}-token
     * prompt arrives. Compares their inter-token latencies while it is prefilled with those of an equally long
     * window before it arrived, in the same run.
     */
    private LongPromptFigures longPrompt(Path model, TextTokenizer tokenizer) {
        log.accept("  long prompt: " + LONG_PROMPT_CONCURRENCY + " conversations, then " + LONG_PROMPT_TOKENS
                + " prompt tokens mid-run ...");
        try (Scratch scratch = new Scratch();
             MemLongRuntime rt = runtime(model, scratch.dir, LONG_PROMPT_CONCURRENCY + 1)) {
            warmUp(rt, tokenizer);
            GenerationParams endless = GenerationParams.greedy(100_000).withIgnoreEos(true);
            List<TokenClock> clocks = new ArrayList<>();
            for (int i = 0; i < LONG_PROMPT_CONCURRENCY; i++) {
                clocks.add(TokenClock.start(rt.conversation("bench", "running-" + i),
                        prompt(tokenizer, PROMPT_TOKENS, i), endless));
            }
            sleep(3_000); // all prefilled and decoding
            long before = System.nanoTime();
            sleep(10_000);
            long arrived = System.nanoTime();
            String longText = promptOfAbout(tokenizer, LONG_PROMPT_TOKENS, 999);
            var reply = rt.conversation("bench", "long").send(longText, GenerationParams.greedy(1)).join();
            long prefilled = System.nanoTime();
            clocks.forEach(TokenClock::cancel);
            long window = prefilled - arrived;
            long[] without = TierFigures.gapsWithin(clocks, Math.max(before, arrived - window), arrived);
            long[] with = TierFigures.gapsWithin(clocks, arrived, prefilled);
            return new LongPromptFigures(reply.promptTokens(), window / 1e9, TierFigures.percentileMs(without, 0.99),
                    TierFigures.percentileMs(with, 0.99), TierFigures.percentileMs(without, 0.5),
                    TierFigures.percentileMs(with, 0.5), without.length, with.length);
        }
    }

    private MemLongRuntime runtime(Path model, Path data, int maxBatch) {
        Config config = ConfigFactory.parseString("""
                memlong.model.dir = "%s"
                memlong.model.kv-cache-dtype = %s
                memlong.actors {
                  devices = ["cpu"]
                  max-batch = %d
                  max-queue = 8
                  step-token-budget = %d
                }
                memlong.memory {
                  chunk-size = 64
                  local-window = 512
                  top-k = 4
                  kv-dtype = bf16
                }
                memlong.storage {
                  path = "%s"
                  fsync = false
                }
                pekko.loglevel = WARNING
                """.formatted(path(model), kvCacheType == DataType.BFLOAT16 ? "bfloat16" : "float32", maxBatch,
                maxBatch + PREFILL_TOKENS_PER_STEP, path(data)));
        return MemLongRuntime.builder(config).retriever(new HashingRetriever()).start();
    }

    /**
     * One short turn, so the first measured step does not pay for JIT compilation and first-touch allocation; then
     * the warm-up conversation is forgotten, freeing its cache slot, so the measured conversations take slots
     * 0..C-1 and the model reads their cache rows as one view (no gather).
     */
    private static void warmUp(MemLongRuntime rt, TextTokenizer tokenizer) {
        Conversation warmUp = rt.conversation("bench", "warm-up");
        warmUp.send(prompt(tokenizer, PROMPT_TOKENS, -1), GenerationParams.greedy(8).withIgnoreEos(true)).join();
        warmUp.forget().toCompletableFuture().join();
    }

    /** About {@code tokens} tokens of text: seeded ids decoded by the checkpoint's tokenizer. */
    static String prompt(TextTokenizer tokenizer, int tokens, long seed) {
        int[] ids = BenchPrompt.ids(tokens + 1, 32000, 1000 + seed);
        return tokenizer.decode(java.util.Arrays.copyOfRange(ids, 1, ids.length), true);
    }

    /** Text that the tokenizer encodes to about {@code tokens} tokens (decoded ids re-encode to more). */
    static String promptOfAbout(TextTokenizer tokenizer, int tokens, long seed) {
        int ids = tokens;
        String text = prompt(tokenizer, ids, seed);
        for (int i = 0; i < 4; i++) {
            int encoded = tokenizer.encode(text, false).length;
            if (Math.abs(encoded - tokens) < tokens / 100) {
                break;
            }
            ids = Math.max(1, (int) ((long) ids * tokens / encoded));
            text = prompt(tokenizer, ids, seed);
        }
        return text;
    }

    private static String path(Path p) {
        return p.toAbsolutePath().toString().replace("\\", "/");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** A temporary storage directory, deleted on close. */
    private static final class Scratch implements AutoCloseable {
        final Path dir;

        Scratch() {
            try {
                dir = Files.createTempDirectory("memlong-bench-batching-");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException e) {
                // best effort: a temporary directory
            }
        }
    }
}
