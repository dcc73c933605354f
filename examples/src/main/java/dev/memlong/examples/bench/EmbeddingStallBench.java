package dev.memlong.examples.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.Conversation;
import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.MemLongRuntime;
import dev.memlong.actors.Reply;
import dev.memlong.actors.StreamEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/**
 * What embedding on the device thread costs the rest of the batch. {@code conversations} conversations with memory
 * (a few turns first) generate long replies, retrieving (a query embedding) every {@code chunk} tokens and moving
 * chunks to memory (chunk embeddings) every half window, with the configured retriever (bge-small through ONNX
 * Runtime by default); beside them {@code bystanders} conversations without memory, whose replies stay within
 * their window, never embed. Measured: inter-token latency of the bystanders' streamed tokens (what an embedding
 * on the device thread stalls) and of the remembering ones' (which wait for their own retrievals either way),
 * p50/p99/max, with {@code async-embedding} on (the embedding dispatcher) and off (the device thread embeds
 * inside the step), alternating, each mode {@code rounds} times on a fresh runtime.
 */
public final class EmbeddingStallBench {

    /** What to run. */
    public record Options(Path model, int conversations, int bystanders, int tokens, int rounds, int window,
                          int chunk) {}

    private EmbeddingStallBench() {}

    public static Map<String, Object> run(Options o, Consumer<String> progress) {
        Map<String, Object> report = new LinkedHashMap<>();
        Map<String, List<Map<String, Object>>> byMode = new LinkedHashMap<>();
        byMode.put("async", new ArrayList<>());
        byMode.put("inline", new ArrayList<>());
        for (int round = 0; round < o.rounds(); round++) {
            for (String mode : byMode.keySet()) {
                Map<String, Object> r = once(o, mode.equals("async"));
                progress.accept("round " + round + " " + mode + ": " + r);
                byMode.get(mode).add(r);
            }
        }
        report.put("conversations", o.conversations());
        report.put("bystanders", o.bystanders());
        report.put("tokens_each", o.tokens());
        report.put("window", o.window());
        report.put("chunk", o.chunk());
        report.putAll(byMode);
        report.put("load_average", loadAverage());
        return report;
    }

    private static Map<String, Object> once(Options o, boolean async) {
        Path data;
        try {
            data = Files.createTempDirectory("memlong-embedding-bench");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            return once(o, async, data);
        } finally {
            deleteTree(data); // a RocksDB store per round: left behind, every run would leave several
        }
    }

    /** Deletes {@code dir} and everything under it; best effort (a temporary directory). */
    static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // the temporary directory stays; nothing else to do
        }
    }

    private static Map<String, Object> once(Options o, boolean async, Path data) {
        Config config = ConfigFactory.parseString("""
                memlong.model.dir = "%s"
                memlong.actors { devices = ["cpu"], max-batch = %d, max-queue = %d, step-token-budget = %d,
                                 async-embedding = %s, shutdown-timeout = 5s }
                memlong.memory { chunk-size = %d, local-window = %d, top-k = 2, kv-dtype = fp32 }
                memlong.storage { path = "%s", fsync = false, min-free-disk-bytes = 0 }
                pekko.loglevel = WARNING
                """.formatted(o.model().toAbsolutePath().toString().replace("\\", "/"),
                o.conversations() + o.bystanders(), o.conversations() + o.bystanders(),
                o.conversations() + o.bystanders() + 16, async, o.chunk(), o.window(),
                data.resolve("rocksdb").toString().replace("\\", "/")));
        try (MemLongRuntime rt = MemLongRuntime.start(config)) {
            List<Conversation> conversations = new ArrayList<>();
            for (int i = 0; i < o.conversations(); i++) {
                Conversation c = rt.conversation("bench", "c" + i);
                for (int t = 0; t < 3; t++) {
                    c.send(HistoryText.text(new java.util.SplittableRandom(i * 7L + t), 160), GenerationParams.greedy(8).withIgnoreEos(true)).join();
                }
                conversations.add(c);
            }
            List<Double> gaps = new CopyOnWriteArrayList<>();
            List<Double> bystanderGaps = new CopyOnWriteArrayList<>();
            List<CompletableFuture<Reply>> replies = new ArrayList<>();
            List<CompletableFuture<Reply>> bystanderReplies = new ArrayList<>();
            for (Conversation c : conversations) {
                replies.add(stream(c, GenerationParams.greedy(o.tokens()).withIgnoreEos(true), gaps));
            }
            int bystanderTokens = Math.max(2, Math.min(o.tokens(), o.window() / 2));
            for (int i = 0; i < o.bystanders(); i++) {
                bystanderReplies.add(stream(rt.conversation("bench", "bystander" + i),
                        GenerationParams.greedy(bystanderTokens).withIgnoreEos(true), bystanderGaps));
            }
            long retrievalNanos = 0;
            for (CompletableFuture<Reply> r : replies) {
                retrievalNanos += r.join().retrievalTime().toNanos();
            }
            for (CompletableFuture<Reply> r : bystanderReplies) {
                if (r.join().memoryTokens() > 0) {
                    throw new IllegalStateException("a bystander overflowed into memory: use a larger --window");
                }
            }
            Map<String, Object> r = new LinkedHashMap<>();
            if (!bystanderGaps.isEmpty()) {
                r.put("bystander", latency(bystanderGaps));
            }
            r.put("remembering", latency(gaps));
            r.put("retrieval_ms_per_reply", round(retrievalNanos / 1e6 / replies.size()));
            return r;
        }
    }

    private static Map<String, Object> latency(List<Double> gaps) {
        double[] g = gaps.stream().mapToDouble(Double::doubleValue).toArray();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("itl_ms_p50", round(Samples.percentile(g, 50)));
        r.put("itl_ms_p99", round(Samples.percentile(g, 99)));
        r.put("itl_ms_max", round(Samples.percentile(g, 100)));
        return r;
    }

    private static CompletableFuture<Reply> stream(Conversation c, GenerationParams params, List<Double> gaps) {
        CompletableFuture<Reply> done = new CompletableFuture<>();
        c.stream("Tell me more about it.", params).subscribe(new Flow.Subscriber<>() {
            private long last;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(StreamEvent event) {
                switch (event) {
                    case StreamEvent.Delta d -> {
                        long now = System.nanoTime();
                        if (last != 0) {
                            gaps.add((now - last) / 1e6);
                        }
                        last = now;
                    }
                    case StreamEvent.Completed completed -> done.complete(completed.reply());
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() { }
        });
        return done;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
