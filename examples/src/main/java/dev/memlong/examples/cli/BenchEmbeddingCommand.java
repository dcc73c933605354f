package dev.memlong.examples.cli;

import dev.memlong.examples.bench.EmbeddingStallBench;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "embedding", mixinStandardHelpOptions = true, description = {
    "What embedding on the device thread costs running conversations:",
    "N conversations with memory generate long replies at once (bge-small",
    "via ONNX Runtime; a small window and chunk, so they retrieve often)",
    "beside M without memory (bystanders, which never embed); inter-token",
    "latency p50/p99/max of each with async-embedding on and off,",
    "alternating. Progress on stderr."})
final class BenchEmbeddingCommand implements Callable<Integer> {

    @Option(names = "--model", defaultValue = "fixtures/hf-tiny-llama", paramLabel = "DIR",
            description = "model directory (default: ${DEFAULT-VALUE})")
    Path model;

    @Option(names = "--conversations", defaultValue = "4", paramLabel = "N", description = "default ${DEFAULT-VALUE}")
    int conversations;

    @Option(names = "--bystanders", defaultValue = "4", paramLabel = "N",
            description = "conversations without memory beside them (default ${DEFAULT-VALUE})")
    int bystanders;

    @Option(names = "--tokens", defaultValue = "96", paramLabel = "N", description = "reply tokens each (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--rounds", defaultValue = "2", paramLabel = "N", description = "runs per mode (default ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--window", defaultValue = "64", paramLabel = "N", description = "local window (default ${DEFAULT-VALUE})")
    int window;

    @Option(names = "--chunk", defaultValue = "16", paramLabel = "N", description = "chunk size (default ${DEFAULT-VALUE})")
    int chunk;

    @Override
    public Integer call() {
        if (conversations < 1 || bystanders < 0 || tokens < 2 || rounds < 1) {
            throw new IllegalArgumentException("--conversations, --rounds must be >= 1, --bystanders >= 0 and"
                    + " --tokens >= 2");
        }
        Map<String, Object> report = EmbeddingStallBench.run(new EmbeddingStallBench.Options(model, conversations,
                bystanders, tokens, rounds, window, chunk), System.err::println);
        Json.print(report);
        return 0;
    }
}
