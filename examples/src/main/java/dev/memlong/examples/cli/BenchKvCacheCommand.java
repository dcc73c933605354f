package dev.memlong.examples.cli;

import dev.memlong.examples.bench.BenchCheckpoint;
import dev.memlong.examples.bench.DecodeBench;
import dev.memlong.examples.bench.KvCacheBench;
import dev.memlong.examples.bench.Samples;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "kv-cache", mixinStandardHelpOptions = true, description = {
    "Decode steps of the 110M-parameter checkpoint alone at a long context (every sequence's cache full), with a",
    "float32 and a bfloat16 KV cache side by side (memlong.model.kv-cache-dtype). Progress goes to stderr."})
final class BenchKvCacheCommand implements Callable<Integer> {

    @Option(names = "--json", description = "print one JSON object instead of the table")
    boolean json;

    @Option(names = "--data", paramLabel = "DIR", description = "data directory (default ./data); the checkpoint lives in DIR/bench/llama-110m")
    Path data = BenchCheckpoint.DEFAULT_DATA_DIR;

    @Option(names = "--threads", defaultValue = "2", paramLabel = "N", description = "threads (default 2)")
    int threads;

    @Option(names = "--context", defaultValue = "2000", paramLabel = "TOKENS",
            description = "tokens in every sequence's cache (default 2000: a full default window of 2048)")
    int context;

    @Option(names = "--batch", split = ",", paramLabel = "N,N,...", description = "sequences a step (default 1,4,16)")
    List<Integer> batches = List.of(1, 4, 16);

    @Option(names = "--rounds", defaultValue = "2", paramLabel = "N", description = "alternating rounds (default 2)")
    int rounds;

    @Override
    public Integer call() {
        if (threads < 1 || context < 1 || context > 2047 || rounds < 1 || batches.stream().anyMatch(b -> b < 1)) {
            throw new IllegalArgumentException("--threads, --rounds and --batch must be at least 1, --context in [1, 2047]"
                    + " (the checkpoint's 2,048 positions)");
        }
        DecodeBench.configureThreads(threads);
        Map<String, Map<Integer, List<Double>>> steps = new KvCacheBench(data, context, batches, rounds,
                System.err::println).run();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("context_tokens", context);
            m.put("threads", threads);
            m.put("step_ms", steps);
            Json.print(m);
        } else {
            System.out.printf("decode step at %d tokens of context (median of each round, ms)%n", context);
            System.out.printf("%10s %-40s %-40s %s%n", "sequences", "float32 cache", "bfloat16 cache", "speed-up");
            for (int b : batches) {
                List<Double> f = steps.get("float32").get(b);
                List<Double> h = steps.get("bfloat16").get(b);
                System.out.printf("%10d %-40s %-40s %.2fx%n", b, ms(f), ms(h), median(f) / median(h));
            }
        }
        return 0;
    }

    private static String ms(List<Double> xs) {
        return xs.stream().map(x -> String.format(java.util.Locale.ROOT, "%.1f", x)).toList().toString();
    }

    private static double median(List<Double> xs) {
        return Samples.median(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }
}
