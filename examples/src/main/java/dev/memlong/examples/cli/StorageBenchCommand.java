package dev.memlong.examples.cli;

import dev.memlong.storage.bench.StorageBenchmark;
import dev.memlong.storage.bench.StorageBenchmarkResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "storage", mixinStandardHelpOptions = true, description = "The storage benchmark: turn commits with and without fsync, 1M-token "
        + "activation, warm and cold top-8 K/V fetch, disk bytes per memory token, and the SIGKILL crash loop "
        + "(takes minutes). With --json: one JSON object.")
final class StorageBenchCommand implements Callable<Integer> {

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "scratch directory, deleted afterwards (default: a new temporary directory)")
    Path dir;

    @Option(names = "--tokens", defaultValue = "1000000", paramLabel = "N",
            description = "memory tokens of the activated conversation (default: ${DEFAULT-VALUE})")
    long tokens;

    @Option(names = "--commit-turns", defaultValue = "200", paramLabel = "N",
            description = "turns per commit-throughput run (default: ${DEFAULT-VALUE})")
    int commitTurns;

    @Option(names = "--queries", defaultValue = "500", paramLabel = "N",
            description = "top-8 queries per fetch-latency run (default: ${DEFAULT-VALUE})")
    int queries;

    @Option(names = "--crash-iterations", defaultValue = "100", paramLabel = "N",
            description = "SIGKILL iterations (default: ${DEFAULT-VALUE})")
    int crashIterations;

    @Override
    public Integer call() throws Exception {
        if (tokens < StorageBenchmark.CHUNK_TOKENS || commitTurns < 1 || queries < 1 || crashIterations < 0) {
            throw new IllegalArgumentException("--tokens must be >= " + StorageBenchmark.CHUNK_TOKENS
                    + ", --commit-turns and --queries >= 1, --crash-iterations >= 0");
        }
        if (dir != null && Files.exists(dir)) {
            throw new IllegalArgumentException("--dir " + dir + " exists; the benchmark deletes its scratch "
                    + "directory afterwards, so give a new one");
        }
        Path scratch = dir != null ? dir : Files.createTempDirectory("memlong-storage-bench");
        StorageBenchmarkResult r;
        try {
            r = StorageBenchmark.run(new StorageBenchmark.Options(scratch, tokens, commitTurns, queries,
                    crashIterations));
        } finally {
            try {
                Files.deleteIfExists(scratch); // ours (a new directory); the benchmark removed what it made inside
            } catch (java.io.IOException e) { // left non-empty by a failure: keep that failure, not this one
                System.err.println("note: could not remove " + scratch + ": " + e);
            }
        }
        System.out.println(json ? r.toJson() : r.toString().replace(", ", "\n  "));
        return 0;
    }
}
