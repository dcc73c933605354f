package dev.memlong.examples.cli;

import dev.memlong.examples.bench.BenchCheckpoint;
import dev.memlong.examples.bench.DecodeBench;
import dev.memlong.examples.bench.batching.BatchingBench;
import dev.memlong.examples.bench.batching.BatchingReport;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "batching", mixinStandardHelpOptions = true, description = {
    "Continuous batching through the device scheduler (in-process MemLongRuntime, one CPU device, the ~110M",
    "checkpoint of bench decode): aggregate decode tok/s and inter-token latency p50/p99 at 1, 4, 16, 32 and 64",
    "concurrent conversations against the roofline of each batch size, and a 4,000-token prompt arriving mid-run.",
    "Fewer tokens per conversation at high concurrency (64/64/48/32/24). Progress goes to stderr."})
final class BenchBatchingCommand implements Callable<Integer> {

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--data", paramLabel = "DIR", description = "data directory (default ./data); the checkpoint lives in DIR/bench/llama-110m")
    Path data = BenchCheckpoint.DEFAULT_DATA_DIR;

    @Option(names = "--threads", defaultValue = "2", paramLabel = "N", description = "PyTorch threads (default 2)")
    int threads;

    @Option(names = "--concurrency", split = ",", paramLabel = "N,N,...", description = "default 1,4,16,32,64")
    List<Integer> concurrencies = List.of(1, 4, 16, 32, 64);

    @Option(names = "--no-long-prompt", description = "skip the long prompt part (a quicker run)")
    boolean noLongPrompt;

    @Option(names = "--kv-cache-dtype", defaultValue = "float32", paramLabel = "TYPE",
            description = "what the KV caches store: float32 (default) or bfloat16")
    String kvCacheDtype;

    @Override
    public Integer call() {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1");
        }
        DecodeBench.configureThreads(threads);
        ai.djl.ndarray.types.DataType kv = dev.memlong.runtime.model.ModelOptions.parseKvCacheType(kvCacheDtype,
                ai.djl.ndarray.types.DataType.FLOAT32);
        BatchingReport report = new BatchingBench(data, threads, concurrencies, !noLongPrompt, kv,
                System.err::println).run();
        if (json) {
            Json.print(report.toMap());
        } else {
            report.printTable(System.out);
        }
        return 0;
    }
}
