package dev.memlong.examples.bench;

import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvCodec;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.MemorySettings;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.memlong.MemoryGather;
import dev.memlong.runtime.memlong.Retrieval;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.MemoryKv;
import dev.memlong.runtime.retriever.HybridRetriever;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Runs {@code memlong bench memory}: the decode benchmark's checkpoint with MemLong memory, the bank filled to each
 * history length in turn ({@link SyntheticHistory}), then per length: resident memory, retrieval cost by phase, and
 * batch-1 decode latency through a {@link MemLongSequence}; finally the same decode with memory off.
 *
 * @param dataDir where the checkpoint is kept ({@code DATA/bench/llama-110m})
 * @param threads PyTorch intra-op threads
 */
public record MemoryBench(Path dataDir, int threads, MemoryBenchPlan plan, Consumer<String> log) {

    /** Timed decode steps of each warm-up run. */
    private static final int WARMUP_DECODE_STEPS = 32;
    /** Untimed search + gather + upload calls before the timed ones. */
    private static final int RETRIEVAL_WARMUPS = 20;

    /**
     * Bytes a bank's own payload takes: keys and values ({@code tokens x 2 x kvHeads x headDim x bytes per value})
     * plus one float32 embedding per chunk. Token ids and texts are not counted (small beside the K/V).
     */
    public static long bankBytes(KvLayout layout, long tokens, long chunks) {
        long kv = Math.multiplyExact(Math.multiplyExact(tokens, 2L * layout.kvHeads() * layout.headDim()),
                layout.dtype().bytes());
        return kv + Math.multiplyExact(chunks, (long) layout.embeddingDim() * Float.BYTES);
    }

    public MemoryBenchReport run() {
        ModelShape shape = ModelShape.llama110m();
        Path dir = BenchCheckpoint.ensure(BenchCheckpoint.directory(dataDir), shape, plan.seed(), log);
        String loadBefore = MemoryBenchReport.loadAverage();
        try (ModelBundle bundle = ModelBundle.open(dir); Retriever retriever = HybridRetriever.standard()) {
            MemorySettings settings = settings(bundle);
            plan.requireWholeChunkCycles(settings.chunkSize());
            for (int h : plan.histories()) {
                if (h % settings.chunkSize() != 0) {
                    throw new IllegalArgumentException("history length " + h + " is not a whole number of chunks of "
                            + settings.chunkSize());
                }
            }
            MemLongEngine engine = new MemLongEngine(bundle, retriever, settings);
            float[] rms = memoryLayerRms(bundle, retriever, settings);
            log.accept(String.format("memory-layer K/V RMS from a real window overflow: keys %.3f, values %.3f", rms[0], rms[1]));
            warmUp(engine, retriever, rms);
            ResidentMemory before = ResidentMemory.measure();
            log.accept(String.format("resident before filling: %.1f MB", ResidentMemory.mb(before.rssBytes())));
            List<MemoryBenchReport.History> histories = new ArrayList<>();
            List<MemoryBank> decodeBanks = new ArrayList<>();
            try (MemoryBank bank = engine.newInMemoryBank()) {
                SyntheticHistory history = new SyntheticHistory(bank, retriever, engine.tokenizer(),
                        settings.chunkSize(), plan.distinctTexts(), rms[0], rms[1], plan.seed());
                long fillNanos = 0;
                List<ResidentMemory> filled = new ArrayList<>();
                List<RetrievalCost> costs = new ArrayList<>();
                List<ResidentMemory> searched = new ArrayList<>();
                for (int tokens : plan.histories()) {
                    long t0 = System.nanoTime();
                    history.fillTo(tokens);
                    fillNanos += System.nanoTime() - t0;
                    filled.add(ResidentMemory.measure());
                    log.accept(String.format("history %d tokens (%d chunks) filled, %.1f s so far; resident %.1f MB",
                            bank.tokenCount(), bank.chunkCount(), fillNanos / 1e9, ResidentMemory.mb(last(filled).rssBytes())));
                    RetrievalCost cost = retrievalCost(engine, bank);
                    costs.add(cost);
                    searched.add(ResidentMemory.measure());
                    log.accept(String.format("  search+gather p50 %.2f ms, p99 %.2f ms; query embedding p50 %.1f ms; "
                                    + "resident %.1f MB after %d calls", Samples.percentile(cost.searchGatherMs(), 50),
                            Samples.percentile(cost.searchGatherMs(), 99), Samples.percentile(cost.embedMs(), 50),
                            ResidentMemory.mb(last(searched).rssBytes()), plan.retrievalCalls()));
                    histories.add(null);
                }
                // Decode runs interleave the history lengths (and memory off) in rounds, forward then backward, so
                // that other processes' load drifting over the run does not favour one length. Shorter histories
                // decode over copies of the bank's first chunks: the same history, cut.
                int[] lengths = plan.histories();
                for (int i = 0; i < lengths.length - 1; i++) {
                    decodeBanks.add(prefix(engine, bank, lengths[i] / settings.chunkSize()));
                }
                decodeBanks.add(bank);
                DecodeSteps[] runs = new DecodeSteps[lengths.length + 1];   // last: memory off
                int perRound = plan.decodeStepsPerRound();
                for (int round = 0; round < plan.rounds(); round++) {
                    for (int j = 0; j <= lengths.length; j++) {
                        int config = round % 2 == 0 ? j : lengths.length - j;
                        boolean memory = config < lengths.length;
                        MemoryBank b = memory ? decodeBanks.get(config) : bank;
                        DecodeSteps steps = decode(engine, b, memory, perRound);
                        runs[config] = runs[config] == null ? steps : runs[config].concat(steps);
                        log.accept(String.format("  round %d, %s: decode %.2f ms per token, p50 %.2f ms, p99 %.2f ms; "
                                        + "%d retrieval steps, mean %.2f ms", round + 1,
                                memory ? lengths[config] + " tokens of history" : "memory off", steps.perTokenMs(),
                                steps.p50(), steps.p99(), steps.retrievalSteps(), steps.retrievalStepMeanMs()));
                    }
                }
                for (int i = 0; i < lengths.length; i++) {
                    int chunks = lengths[i] / settings.chunkSize();
                    histories.set(i, new MemoryBenchReport.History(lengths[i], chunks,
                            bankBytes(bank.layout(), (long) chunks * settings.chunkSize(), chunks), filled.get(i),
                            costs.get(i), searched.get(i), runs[i]));
                }
                DecodeSteps off = runs[lengths.length];
                return new MemoryBenchReport(plan, settings, threads, rms, history.realEmbeddings(),
                        history.embedNanos() / 1e6 / Math.max(1, history.realEmbeddings()), fillNanos / 1e9, before,
                        histories, off, loadBefore, MemoryBenchReport.loadAverage());
            } finally {
                for (int i = 0; i < decodeBanks.size() - 1; i++) {
                    decodeBanks.get(i).close();
                }
            }
        }
    }

    private static <T> T last(List<T> list) {
        return list.get(list.size() - 1);
    }

    /** A new bank holding copies of {@code source}'s first {@code chunks} chunks. */
    private static MemoryBank prefix(MemLongEngine engine, MemoryBank source, int chunks) {
        MemoryBank copy = engine.newInMemoryBank();
        for (MemoryChunk c : source.fetch(source.seqs().subList(0, chunks))) {
            copy.append(new NewChunk(c.tokenIds(), c.text(), c.embedding(), c.keys(), c.values()));
        }
        return copy;
    }

    /** The model's defaults, with the plan's window and a capacity that holds the longest history without eviction. */
    private MemorySettings settings(ModelBundle bundle) {
        MemorySettings d = MemLongEngine.defaultSettings(bundle);
        return new MemorySettings(d.memoryLayer(), d.retrievalLayers(), d.chunkSize(), d.topK(), plan.window(),
                (long) plan.maxHistory() + plan.window(), d.eviction(), d.kvDType())
                .requireFits(bundle.model().config().numLayers(), bundle.model().config().maxPositionEmbeddings());
    }

    /**
     * RMS of the memory layer's keys and values on real text: a window of two chunks overflows once, which moves one
     * chunk with the K/V the model computed into a scratch bank.
     */
    private float[] memoryLayerRms(ModelBundle bundle, Retriever retriever, MemorySettings settings) {
        int chunk = settings.chunkSize();
        MemorySettings small = new MemorySettings(settings.memoryLayer(), settings.retrievalLayers(), chunk,
                settings.topK(), 2 * chunk, settings.capacityTokens(), settings.eviction(), settings.kvDType());
        MemLongEngine engine = new MemLongEngine(bundle, retriever, small);
        try (KvCachePool cache = engine.newCache(1); MemoryBank bank = engine.newInMemoryBank();
             MemLongSequence seq = engine.newSequence(cache, 0, bank)) {
            seq.feed(promptIds(engine.tokenizer(), 3 * chunk, plan.seed() + 7), true, false, null);
            MemoryChunk stored = bank.fetch(bank.seqs()).get(0);
            return new float[] {rms(KvCodec.decode(stored.keys(), small.kvDType())),
                rms(KvCodec.decode(stored.values(), small.kvDType()))};
        }
    }

    private static float rms(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x * (double) x;
        }
        return (float) Math.sqrt(s / v.length);
    }

    /** JIT, PyTorch's allocator and ONNX Runtime warmed on a small separate bank, with memory on and off. */
    private void warmUp(MemLongEngine engine, Retriever retriever, float[] rms) {
        log.accept("warming up ...");
        try (MemoryBank bank = new InMemoryMemoryBank(engine.bankLayout(), engine.settings().capacityTokens(),
                engine.settings().eviction())) {
            new SyntheticHistory(bank, retriever, engine.tokenizer(), engine.settings().chunkSize(), 16,
                    rms[0], rms[1], plan.seed() + 3).fillTo(32L * engine.settings().chunkSize());
            retrievalCost(engine, bank);
            // memory on: as long as a timed run, so that its first chunk-boundary retrieval mid-decode (and whatever the
            // native allocators keep from it) happens here rather than in the first timed run
            decode(engine, bank, true, plan.decodeStepsPerRound());
            decode(engine, bank, false, WARMUP_DECODE_STEPS);
        }
    }

    /**
     * A prompt as a new input, then {@code steps} timed greedy decode steps (after the plan's untimed warm-up steps)
     * on a fresh sequence over {@code bank}. The plan keeps everything inside the window, so nothing overflows and
     * the bank does not change.
     */
    private DecodeSteps decode(MemLongEngine engine, MemoryBank bank, boolean memory, int steps) {
        int[] prompt = promptIds(engine.tokenizer(), plan.promptTokens(), plan.seed() + 11);
        List<Retrieval> retrievals = new ArrayList<>();
        if (steps < 1) {
            throw new IllegalArgumentException("decode needs at least one step");
        }
        double[] ms = new double[steps];
        boolean[] retrieved = new boolean[steps];
        try (KvCachePool cache = engine.newCache(1); MemLongSequence seq = engine.newSequence(cache, 0, bank)) {
            seq.setMemoryEnabled(memory);
            seq.onRetrieval(retrievals::add);
            int next = RuntimeBench.argmax(seq.feed(prompt, true, false, null));
            retrievals.clear();
            ResidentMemory first = null;
            for (int i = -plan.warmupSteps(); i < steps; i++) {
                if (i == 0) {
                    first = ResidentMemory.measure();
                }
                int before = retrievals.size();
                long t0 = System.nanoTime();
                next = RuntimeBench.argmax(seq.feed(new int[] {next}, false, false, null));
                long t1 = System.nanoTime();
                if (i >= 0) {
                    ms[i] = (t1 - t0) / 1e6;
                    retrieved[i] = retrievals.size() > before;
                } else {
                    retrievals.subList(before, retrievals.size()).clear();
                }
            }
            ResidentMemory end = ResidentMemory.measure();
            DecodeSteps run = new DecodeSteps(ms, retrieved, List.copyOf(retrievals),
                    new long[] {end.rssBytes() - first.rssBytes()},
                    new long[] {end.heapCommittedBytes() - first.heapCommittedBytes()});
            // the per-token mean counts on one retrieval step per chunk cycle: check the runtime did retrieve so
            int chunk = engine.settings().chunkSize();
            int expected = memory && bank.chunkCount() > 0 ? steps / chunk : 0;
            if (steps % chunk == 0 && run.retrievalSteps() != expected) {
                throw new IllegalStateException(steps + " decode steps retrieved " + run.retrievalSteps()
                        + " times, not once per chunk of " + chunk + " (" + expected + ")");
            }
            return run;
        }
    }

    /**
     * Retrieval phases timed separately, the way {@link MemLongSequence} runs them: query texts of two chunks embedded
     * one at a time (one sample each), then {@code retrievalCalls} top-k searches over the bank cycling over their
     * embeddings, each followed by the gather of the hits' K/V ({@link MemoryGather}) and the upload to the model.
     */
    private RetrievalCost retrievalCost(MemLongEngine engine, MemoryBank bank) {
        MemorySettings settings = engine.settings();
        TextTokenizer tokenizer = engine.tokenizer();
        Retriever retriever = engine.retriever();
        MemoryGather gather = new MemoryGather(bank.layout().kvHeads() * bank.layout().headDim());
        double[] embedMs = new double[plan.queryTexts()];
        float[][] queries = new float[plan.queryTexts()][];
        SplittableRandom random = new SplittableRandom(plan.seed() + 13);
        for (int q = 0; q < queries.length; q++) {
            String text = tokenizer.decode(promptIds(tokenizer, 2 * settings.chunkSize(), random.nextLong()), true);
            long t0 = System.nanoTime();
            queries[q] = retriever.embed(List.of(text))[0];
            embedMs[q] = (System.nanoTime() - t0) / 1e6;
        }
        int calls = plan.retrievalCalls();
        double[] searchMs = new double[calls];
        double[] gatherMs = new double[calls];
        double[] uploadMs = new double[calls];
        for (int i = -RETRIEVAL_WARMUPS; i < calls; i++) {
            float[] query = queries[Math.floorMod(i, queries.length)];
            long t0 = System.nanoTime();
            List<ScoredChunk> hits = bank.topK(query, settings.topK());
            long t1 = System.nanoTime();
            MemoryGather.Gathered gathered = gather.gather(bank, hits.stream().map(ScoredChunk::seq).toList());
            long t2 = System.nanoTime();
            try (MemoryKv kv = engine.model().memoryKv(gathered.keys(), gathered.values(), gathered.tokens())) {
                if (kv.tokens() != Math.min(settings.topK(), bank.chunkCount()) * settings.chunkSize()) {
                    throw new IllegalStateException("gathered " + kv.tokens() + " memory tokens");
                }
            }
            long t3 = System.nanoTime();
            if (i >= 0) {
                searchMs[i] = (t1 - t0) / 1e6;
                gatherMs[i] = (t2 - t1) / 1e6;
                uploadMs[i] = (t3 - t2) / 1e6;
            }
        }
        return new RetrievalCost(embedMs, searchMs, gatherMs, uploadMs);
    }

    /** {@code length} token ids of fresh {@link HistoryText}, BOS first. */
    static int[] promptIds(TextTokenizer tokenizer, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[0];
        int chars = 4 * length;
        while (ids.length < length) {
            ids = tokenizer.encode(HistoryText.text(random, chars), true);
            chars *= 2;
        }
        return Arrays.copyOf(ids, length);
    }
}
