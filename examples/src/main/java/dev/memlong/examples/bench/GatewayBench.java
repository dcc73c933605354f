package dev.memlong.examples.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.server.ChatServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code memlong bench gateway}: the chat server's overhead. For each client count, the same load (every client a
 * new conversation of {@code turns} greedy turns) runs through the embeddable API in this JVM and through the
 * gateway as WebSocket clients on loopback, against ONE runtime (the same model, scheduler and store), alternating
 * {@code rounds} times. Per mode the round with the highest tokens/s is reported (the least disturbed by other
 * load on the machine); errors are summed over every round, and time-to-first-token percentiles pool every round's
 * turns. The runtime is sized so the load fits ({@code max-batch}, a queue as long as the client count) and the
 * gateway's per-tenant rate limit is lifted: any error is a failure, none is expected.
 */
public final class GatewayBench {

    /**
     * @param model        model directory
     * @param clients      client counts, each one load
     * @param turns        turns per client
     * @param maxNewTokens reply length limit
     * @param rounds       alternations of in-process and gateway runs per client count
     * @param maxBatch     sequences per batched step
     */
    public record Options(Path model, List<Integer> clients, int turns, int maxNewTokens, int rounds, int maxBatch) {}

    private GatewayBench() {}

    /** Runs the benchmark and returns its one JSON object (as nested maps). */
    public static Map<String, Object> run(Options o) throws IOException, InterruptedException {
        Path scratch = Files.createTempDirectory("memlong-gateway-bench");
        int maxClients = o.clients().stream().max(Comparator.naturalOrder()).orElse(1);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", o.model().toString());
        out.put("turns_per_client", o.turns());
        out.put("max_new_tokens", o.maxNewTokens());
        out.put("rounds", o.rounds());
        out.put("max_batch", o.maxBatch());
        out.put("cores", Runtime.getRuntime().availableProcessors());
        out.put("load_before", MachineLoad.read());
        try (ChatServer server = ChatServer.start(config(o, scratch, maxClients))) {
            // warm-up (not reported): JIT, the model's first batches, the gateway's first connections
            int warmClients = Math.min(20, maxClients);
            new ChatLoad(warmClients, 1, o.maxNewTokens(), "warm-", Duration.ofMinutes(2)).inProcess(server.runtime());
            new ChatLoad(warmClients, 1, o.maxNewTokens(), "warm-gw-", Duration.ofMinutes(2))
                    .overGateway(server.webSocketUri());
            for (int clients : o.clients()) {
                List<ChatLoad.Result> inProcess = new ArrayList<>();
                List<ChatLoad.Result> gateway = new ArrayList<>();
                for (int round = 0; round < o.rounds(); round++) {
                    Duration timeout = Duration.ofMinutes(3);
                    String run = clients + "-" + round + "-";
                    inProcess.add(new ChatLoad(clients, o.turns(), o.maxNewTokens(), "ip-" + run, timeout)
                            .inProcess(server.runtime()));
                    gateway.add(new ChatLoad(clients, o.turns(), o.maxNewTokens(), "gw-" + run, timeout)
                            .overGateway(server.webSocketUri()));
                }
                out.put(String.valueOf(clients), point(inProcess, gateway));
            }
        } finally {
            delete(scratch);
        }
        out.put("load_after", MachineLoad.read());
        return out;
    }

    private static Map<String, Object> point(List<ChatLoad.Result> inProcess, List<ChatLoad.Result> gateway) {
        ChatLoad.Result ip = best(inProcess);
        ChatLoad.Result gw = best(gateway);
        List<Double> gwTtft = gateway.stream().flatMap(r -> r.ttftMs().stream()).toList();
        List<Double> ipTtft = inProcess.stream().flatMap(r -> r.ttftMs().stream()).toList();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("errors", gateway.stream().mapToLong(ChatLoad.Result::errors).sum());
        m.put("ttft_ms_p50", round(percentile(gwTtft, 0.50)));
        m.put("ttft_ms_p99", round(percentile(gwTtft, 0.99)));
        m.put("tok_s", round(gw.tokensPerSecond()));
        m.put("overhead_vs_inprocess", round(1 - gw.tokensPerSecond() / ip.tokensPerSecond()));
        m.put("tokens", gw.tokens());
        m.put("seconds", round(gw.seconds()));
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("errors", inProcess.stream().mapToLong(ChatLoad.Result::errors).sum());
        in.put("ttft_ms_p50", round(percentile(ipTtft, 0.50)));
        in.put("ttft_ms_p99", round(percentile(ipTtft, 0.99)));
        in.put("tok_s", round(ip.tokensPerSecond()));
        in.put("tokens", ip.tokens());
        in.put("seconds", round(ip.seconds()));
        m.put("inprocess", in);
        m.put("tok_s_rounds", Map.of("gateway", gateway.stream().map(r -> round(r.tokensPerSecond())).toList(),
                "inprocess", inProcess.stream().map(r -> round(r.tokensPerSecond())).toList()));
        return m;
    }

    private static ChatLoad.Result best(List<ChatLoad.Result> runs) {
        return runs.stream().max(Comparator.comparingDouble(ChatLoad.Result::tokensPerSecond)).orElseThrow();
    }

    static double percentile(List<Double> values, double q) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] s = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int i = (int) Math.ceil(q * s.length) - 1;
        return s[Math.max(0, Math.min(s.length - 1, i))];
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static Config config(Options o, Path scratch, int maxClients) {
        return ConfigFactory.parseString("""
                memlong.model.dir = "%s"
                %s { max-batch = %d, max-queue = %d, step-token-budget = %d, shutdown-timeout = 30s }
                memlong.storage { path = "%s", fsync = false }
                memlong.gateway {
                  port = 0
                  rate-limit { requests-per-second = 1000000, burst = 1000000 }
                  idle-timeout = 0
                }
                pekko.loglevel = WARNING
                """.formatted(o.model().toString().replace("\\", "/"), ChatServer.actorSettingsRoot(), o.maxBatch(),
                maxClients, Math.max(256, 4 * o.maxBatch()), scratch.resolve("rocksdb").toString().replace("\\", "/")));
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The machine's load average ({@code /proc/loadavg}), for the record. */
    private static final class MachineLoad {
        private MachineLoad() {}

        static String read() {
            try {
                return Files.readString(Path.of("/proc/loadavg")).strip();
            } catch (IOException e) {
                return "unknown";
            }
        }
    }
}
