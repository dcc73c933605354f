package dev.memlong.examples.cli;

import dev.memlong.examples.bench.BenchCheckpoint;
import dev.memlong.examples.bench.DecodeBench;
import dev.memlong.examples.bench.MemoryBench;
import dev.memlong.examples.bench.MemoryBenchPlan;
import dev.memlong.examples.bench.MemoryBenchReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "memory", description = {
    "MemLong memory at 4k, 64k and 256k tokens of history on the decode benchmark's 110M-parameter checkpoint: batch-1",
    "decode latency (per token over whole chunk cycles, the retrieval steps alone, p50/p99; memory on and off),",
    "retrieval cost by phase (query embedding, search, K/V gather, upload) and resident memory against the bank's own",
    "bytes. The history is synthetic (generated text, real retriever embeddings, random K/V at the model's scale)",
    "written straight to the bank. Progress goes to stderr."})
final class BenchMemoryCommand implements Callable<Integer> {

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--data", paramLabel = "DIR", description = "data directory (default ./data); the checkpoint lives in DIR/bench/llama-110m")
    Path data = BenchCheckpoint.DEFAULT_DATA_DIR;

    @Option(names = "--threads", defaultValue = "2", paramLabel = "N", description = "PyTorch threads (default 2)")
    int threads;

    @Option(names = "--histories", split = ",", paramLabel = "TOKENS", description = "history lengths (default 4096,65536,262144)")
    int[] histories;

    @Option(names = "--window", paramLabel = "W", description = "local window in tokens (default 2048)")
    Integer window;

    @Option(names = "--prompt-tokens", paramLabel = "N", description = "prompt before decoding (default 512)")
    Integer promptTokens;

    @Option(names = "--decode-steps", paramLabel = "N", description = "timed decode steps per configuration, over "
            + "all rounds; each round a whole number of chunks, one retrieval step each (default 2048)")
    Integer decodeSteps;

    @Option(names = "--rounds", paramLabel = "N",
            description = "decode runs per configuration, interleaved with the others (default 4)")
    Integer rounds;

    @Option(names = "--real-embeddings", paramLabel = "N",
            description = "history chunks embedded by the retriever; later ones reuse a perturbed one (default: all)")
    Integer distinctTexts;

    @Option(names = "--retrieval-calls", paramLabel = "N", description = "timed search+gather calls per history (default 200)")
    Integer retrievalCalls;

    @Override
    public Integer call() {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1");
        }
        DecodeBench.configureThreads(threads);
        MemoryBenchPlan d = MemoryBenchPlan.standard();
        MemoryBenchPlan plan = new MemoryBenchPlan(histories != null ? histories : d.histories(),
                window != null ? window : d.window(), promptTokens != null ? promptTokens : d.promptTokens(),
                d.warmupSteps(), decodeSteps != null ? decodeSteps : d.decodeSteps(), rounds != null ? rounds : d.rounds(),
                distinctTexts != null ? distinctTexts : d.distinctTexts(), d.queryTexts(),
                retrievalCalls != null ? retrievalCalls : d.retrievalCalls(), d.seed());
        MemoryBenchReport report = new MemoryBench(data, threads, plan, System.err::println).run();
        if (json) {
            Json.print(report.toMap());
        } else {
            report.printTable(System.out);
        }
        return 0;
    }
}
