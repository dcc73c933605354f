package dev.memlong.examples.cli;

import dev.memlong.examples.bench.GatewayBench;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "gateway", mixinStandardHelpOptions = true, description = {
        "The chat server's overhead: 100 and 500 concurrent WebSocket clients",
        "on loopback, each a multi-turn greedy conversation, against the same",
        "load through the in-process API on the same runtime: errors, p50/p99",
        "time to first token, tokens/s, overhead_vs_inprocess. Loopback only,",
        "bounded (about 5 minutes on 2 cores). With --json: one JSON object.", ""})
final class BenchGatewayCommand implements Callable<Integer> {

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Option(names = "--model", defaultValue = "fixtures/hf-tiny-llama", paramLabel = "DIR",
            description = "model directory (default: ${DEFAULT-VALUE}, the fixture model until the demo model ships)")
    Path model;

    @Option(names = "--clients", defaultValue = "100,500", split = ",", paramLabel = "N,N",
            description = "client counts (default: ${DEFAULT-VALUE})")
    List<Integer> clients;

    @Option(names = "--turns", defaultValue = "3", paramLabel = "N", description = "turns per client (default: ${DEFAULT-VALUE})")
    int turns;

    @Option(names = "--max-new-tokens", defaultValue = "16", paramLabel = "N",
            description = "reply length limit (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--rounds", defaultValue = "2", paramLabel = "N",
            description = "in-process/gateway alternations per client count; the best of each is reported (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(names = "--max-batch", defaultValue = "64", paramLabel = "N",
            description = "sequences per batched step (default: ${DEFAULT-VALUE})")
    int maxBatch;

    @Override
    public Integer call() throws Exception {
        if (clients.isEmpty() || clients.stream().anyMatch(c -> c < 1 || c > 2000) || turns < 1 || turns > 20
                || maxNewTokens < 1 || maxNewTokens > 512 || rounds < 1 || rounds > 5 || maxBatch < 1) {
            throw new IllegalArgumentException("--clients in [1, 2000], --turns in [1, 20], --max-new-tokens in "
                    + "[1, 512], --rounds in [1, 5], --max-batch >= 1");
        }
        Map<String, Object> r = GatewayBench.run(new GatewayBench.Options(model, clients, turns, maxNewTokens, rounds,
                maxBatch));
        if (json) {
            Json.print(r);
        } else {
            System.out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(r));
        }
        return 0;
    }
}
