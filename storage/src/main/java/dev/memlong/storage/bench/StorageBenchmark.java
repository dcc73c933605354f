package dev.memlong.storage.bench;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationSpec;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.RocksMemoryBank;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.TurnCommit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * The storage benchmark ({@code memlong bench storage}): turn-commit and chunk-append throughput, activation of
 * a conversation holding 1M memory tokens, top-8 fetch latency warm and cold, bytes on disk per memory token,
 * and the SIGKILL crash loop. K/V is shaped like the ~110M model's memory layer (12 heads x 64, fp16), 128-token
 * chunks, 384-d embeddings.
 */
public final class StorageBenchmark {

    /**
     * What to run.
     *
     * @param dir             where the benchmark makes its scratch directory (a new one inside, deleted afterwards)
     * @param memoryTokens    memory of the conversation to activate (1M for the headline figure)
     * @param commitTurns     turns per commit-throughput measurement
     * @param fetchQueries    queries per fetch-latency measurement
     * @param crashIterations SIGKILL iterations (100 in the benchmark, a few in CI)
     */
    public record Options(Path dir, long memoryTokens, int commitTurns, int fetchQueries, int crashIterations) {
        /** The benchmark as specified: 1M tokens, 100 crash iterations. */
        public static Options defaults(Path dir) {
            return new Options(dir, 1_000_000, 200, 500, 100);
        }
    }

    /** The ~110M model's memory layer: 12 KV heads of 64, fp16; bge-small embeddings. */
    public static final KvLayout LAYOUT = new KvLayout(12, 64, KvDType.FP16, 384);
    public static final int CHUNK_TOKENS = 128;

    private static final ConversationKey KEY = new ConversationKey("bench", "memory");
    private final SyntheticChunks chunks = new SyntheticChunks(LAYOUT, CHUNK_TOKENS);
    private final Options options;

    private StorageBenchmark(Options options) {
        this.options = options;
    }

    /** Runs the whole benchmark. */
    public static StorageBenchmarkResult run(Options options) throws IOException, InterruptedException {
        Files.createDirectories(options.dir());
        // a fresh directory inside the given one, deleted afterwards: never the given directory itself, which may be
        // a user's (`--dir ~/data` used to be wiped)
        Path work = Files.createTempDirectory(options.dir(), "memlong-storage-bench-");
        try {
            return new StorageBenchmark(new Options(work, options.memoryTokens(), options.commitTurns(),
                    options.fetchQueries(), options.crashIterations())).runAll();
        } finally {
            deleteTree(work);
        }
    }

    private StorageBenchmarkResult runAll() throws IOException, InterruptedException {
        double fsync = commitRate(options.dir().resolve("commit-fsync"), true);
        double nofsync = commitRate(options.dir().resolve("commit-nofsync"), false);
        Path memory = options.dir().resolve("memory");
        double appends = fill(memory);
        StorageSettings settings = settings(memory, false);
        double activateMs;
        double[] cold;
        double[] warm;
        try (ConversationStore store = ConversationStore.open(settings.withKvCacheBytes(0))) {
            long t0 = System.nanoTime();
            RocksMemoryBank bank = store.activate(KEY);
            activateMs = (System.nanoTime() - t0) / 1e6;
            cold = fetchLatencies(bank, 11, false);
        }
        try (ConversationStore store = ConversationStore.open(settings)) {
            RocksMemoryBank bank = store.activate(KEY);
            warm = fetchLatencies(bank, 12, true);
        }
        double bytesPerToken = (double) treeSize(memory) / options.memoryTokens();
        CrashLoop.Result crash = CrashLoop.run(options.dir().resolve("crash"), options.crashIterations(), 42, 50, 500);
        return new StorageBenchmarkResult(fsync, nofsync, appends, options.memoryTokens(), activateMs,
                percentile(warm, 50), percentile(warm, 99), percentile(cold, 50),
                percentile(cold, 99), bytesPerToken, crash.iterations(), crash.acknowledgedTurns(),
                crash.lostTurns(), crash.halfWrittenChunks() + crash.corruptChunks());
    }

    private static StorageSettings settings(Path dir, boolean fsync) {
        return StorageSettings.defaults().withPath(dir).withFsync(fsync);
    }

    /** Turns per second, each: user message, reply, one 128-token chunk (~390 KB of K/V). */
    private double commitRate(Path dir, boolean fsync) {
        try (ConversationStore store = ConversationStore.open(settings(dir, fsync))) {
            store.openConversation(KEY, ConversationSpec.of("bench-110m", LAYOUT));
            RocksMemoryBank bank = store.activate(KEY);
            List<NewChunk> pool = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                pool.add(chunks.chunk("turn chunk " + i));
            }
            for (int i = 0; i < 20; i++) { // warm-up
                store.commitTurn(KEY, TurnCommit.of("q", 8, "a", 32, List.of(pool.get(i % 16))));
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < options.commitTurns(); i++) {
                store.commitTurn(KEY, TurnCommit.of("question " + i, 8, "answer " + i, 32, List.of(pool.get(i % 16))));
            }
            double rate = options.commitTurns() / ((System.nanoTime() - t0) / 1e9);
            bank.close();
            return rate;
        }
    }

    /** Fills the memory conversation by bank.append (fsync off); returns appends per second. */
    private double fill(Path dir) {
        try (ConversationStore store = ConversationStore.open(settings(dir, false))) {
            store.openConversation(KEY, new ConversationSpec("bench-110m", LAYOUT, options.memoryTokens(),
                    EvictionPolicy.FREQUENCY));
            RocksMemoryBank bank = store.activate(KEY);
            long n = options.memoryTokens() / CHUNK_TOKENS;
            long t0 = System.nanoTime();
            for (long i = 0; i < n; i++) {
                bank.append(chunks.chunk("memory chunk " + i));
            }
            return n / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * Milliseconds per (top-8 search + fetch of the 8 chunks), for seeded random queries. Warm: each query's chunks
     * are read ahead untimed first ({@code MemoryBank.readAhead}, as the runtime does off the device thread once the
     * query is embedded; the same as a turn re-retrieving at a chunk boundary), so the timed fetch finds its K/V in
     * the cache: what a retrieval costs the device thread. Cold: what it cost without the read-ahead.
     */
    private double[] fetchLatencies(RocksMemoryBank bank, long seed, boolean warm) {
        SplittableRandom r = new SplittableRandom(seed);
        System.gc(); // the fill's garbage should not be collected inside the measurement
        double[] ms = new double[options.fetchQueries()];
        for (int i = 0; i < ms.length; i++) {
            float[] q = SyntheticChunks.embedding(r, LAYOUT.embeddingDim());
            if (warm) {
                bank.readAhead(q, 8, 0);
            }
            long t0 = System.nanoTime();
            List<ScoredChunk> hits = bank.topK(q, 8);
            bank.fetch(hits.stream().map(ScoredChunk::seq).toList());
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return ms;
    }

    private static double percentile(double[] values, int p) {
        if (values.length == 0) {
            return 0;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static long treeSize(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * {@code StorageBenchmark [--json] [--dir D] [--tokens N] [--crash-iterations N] [--commit-turns N]
     * [--queries N]}.
     */
    public static void main(String[] args) throws Exception {
        Options o = Options.defaults(Path.of(System.getProperty("java.io.tmpdir")));
        boolean json = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> json = true;
                case "--dir" -> o = new Options(Path.of(args[++i]), o.memoryTokens(), o.commitTurns(),
                        o.fetchQueries(), o.crashIterations());
                case "--tokens" -> o = new Options(o.dir(), Long.parseLong(args[++i]), o.commitTurns(),
                        o.fetchQueries(), o.crashIterations());
                case "--commit-turns" -> o = new Options(o.dir(), o.memoryTokens(), Integer.parseInt(args[++i]),
                        o.fetchQueries(), o.crashIterations());
                case "--queries" -> o = new Options(o.dir(), o.memoryTokens(), o.commitTurns(),
                        Integer.parseInt(args[++i]), o.crashIterations());
                case "--crash-iterations" -> o = new Options(o.dir(), o.memoryTokens(), o.commitTurns(),
                        o.fetchQueries(), Integer.parseInt(args[++i]));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        StorageBenchmarkResult r = run(o);
        System.out.println(json ? r.toJson() : r.toString().replace(", ", "\n  "));
    }
}
