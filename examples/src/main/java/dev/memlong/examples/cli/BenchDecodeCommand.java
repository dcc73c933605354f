package dev.memlong.examples.cli;

import dev.memlong.examples.bench.BenchCheckpoint;
import dev.memlong.examples.bench.BenchPlan;
import dev.memlong.examples.bench.DecodeBench;
import dev.memlong.examples.bench.DecodeBenchReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "decode", mixinStandardHelpOptions = true, description = {
    "Prefill (512 tokens) and batch-1 decode (256 tokens) of a 110M-parameter LLaMA-shaped checkpoint against this",
    "machine's bandwidth and matmul rooflines, and against Jlama on the same checkpoint. Progress goes to stderr."})
final class BenchDecodeCommand implements Callable<Integer> {

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--data", paramLabel = "DIR", description = "data directory (default ./data); the checkpoint lives in DIR/bench/llama-110m")
    Path data = BenchCheckpoint.DEFAULT_DATA_DIR;

    @Option(names = "--threads", defaultValue = "2", paramLabel = "N", description = "threads for PyTorch and for Jlama (default 2)")
    int threads;

    @Option(names = "--prefill-runs", defaultValue = "3", paramLabel = "N", description = "timed prefill runs, median reported (default 3)")
    int prefillRuns;

    @Option(names = "--decode-tokens", defaultValue = "256", paramLabel = "N", description = "timed decode steps (default 256)")
    int decodeTokens;

    @Option(names = "--no-jlama", description = "skip the Jlama comparison")
    boolean noJlama;

    @Option(names = "--jlama-lib", paramLabel = "DIR", description = "the Jlama jars (default: jlama-lib beside memlong.jar)")
    Path jlamaLib;

    @Override
    public Integer call() {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1");
        }
        DecodeBench.configureThreads(threads);
        BenchPlan standard = BenchPlan.standard();
        BenchPlan plan = new BenchPlan(standard.prefillTokens(), standard.prefillWarmups(), prefillRuns,
                standard.decodePromptTokens(), standard.decodeWarmups(), decodeTokens, standard.seed(),
                standard.warmupSeconds());
        Path lib = noJlama ? null : jlamaLib != null ? jlamaLib : DecodeBench.defaultJlamaLib();
        DecodeBenchReport report = new DecodeBench(data, threads, plan, lib, System.err::println).run();
        if (json) {
            Json.print(report.toMap());
        } else {
            report.printTable(System.out);
        }
        return 0;
    }
}
