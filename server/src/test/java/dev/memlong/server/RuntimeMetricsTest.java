package dev.memlong.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.Conversation;
import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.Reply;
import dev.memlong.actors.RoundReport;
import dev.memlong.actors.RuntimeStats;
import dev.memlong.runtime.retriever.HashingRetriever;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} on real turns of the fixture model: the batch size and queue depth the device worker reports
 * (one device of 2 batch slots, 6 long turns at once: 2 run, 4 wait), and retrieval latency measured where
 * retrieval runs, once a conversation's memory holds chunks. Each figure is checked against what the test itself
 * knows: the slots and turns it configured and sent, and the replies' own retrieval times.
 */
class RuntimeMetricsTest {

    private static final HashingRetriever RETRIEVER = new HashingRetriever();
    private static final int MAX_BATCH = 2;
    private static final int TURNS = 6;

    private static Config config(Path dir) {
        return ConfigFactory.parseString(ChatServer.actorSettingsRoot() + " { max-batch = " + MAX_BATCH
                        + ", max-queue = 8, step-token-budget = 8 }")
                .withFallback(ChatServerTest.config(dir));
    }

    @Test
    void batchSizeQueueDepthAndRetrievalLatencyComeFromTheRuntime(@TempDir Path dir) throws Exception {
        try (ChatServer server = ChatServer.builder(config(dir)).retriever(RETRIEVER).environment(Map.of()).start()) {
            Map<String, Double> idle = scrape(server);
            assertEquals(0.0, idle.get("memlong_batch_size"));
            assertEquals(0.0, idle.get("memlong_queue_depth"));
            assertEquals(0.0, idle.get("memlong_retrievals_seconds_count"));
            for (String source : List.of("cache", "disk", "read_ahead")) {
                assertEquals(0.0, idle.get(chunkReads(source)), source);
            }

            // Memory first: the 32-token window overflows into the bank, so later inputs retrieve.
            Conversation talk = server.runtime().conversation("default", "memory");
            GenerationParams twelve = GenerationParams.greedy(12).withIgnoreEos(true);
            List<Reply> replies = new ArrayList<>();
            for (String text : List.of("My dog is called Rex and he likes the river in the morning.",
                    "My cat is called Tom and she sleeps under the small window.", "What is my dog called?")) {
                replies.add(talk.send(text, twelve).get());
            }
            Reply last = replies.get(replies.size() - 1);
            assertTrue(last.memoryTokens() > 0, "the dialogue overflowed into memory");
            assertTrue(last.retrievalTime().toNanos() > 0, "a turn with memory retrieves");
            Duration lastTurn = last.timeToFirstToken().plusNanos((long) ((last.completionTokens() - 1)
                    / Math.max(1e-9, last.tokensPerSecond()) * 1e9));
            assertTrue(last.retrievalTime().compareTo(lastTurn.plusSeconds(1)) < 0,
                    last.retrievalTime() + " of retrieval in a turn of " + lastTurn);
            long replyRetrievalNanos = replies.stream().mapToLong(r -> r.retrievalTime().toNanos()).sum();
            Map<String, Double> afterMemory = scrape(server);
            assertTrue(afterMemory.get("memlong_retrievals_seconds_count") >= 1, afterMemory.toString());
            assertEquals(replyRetrievalNanos / 1e9, afterMemory.get("memlong_retrievals_seconds_sum"), 1e-6,
                    "the runtime's retrieval time is the sum of its replies' (only this conversation retrieved)");
            // the retrieved chunks had just been committed, so not in the K/V cache: each was read ahead off the
            // device thread (async-embedding is on by default), and the retrievals found them all in the cache
            assertTrue(afterMemory.get(chunkReads("read_ahead")) >= 1, afterMemory.toString());
            assertTrue(afterMemory.get(chunkReads("cache")) >= afterMemory.get(chunkReads("read_ahead")),
                    afterMemory.toString());
            assertEquals(0.0, afterMemory.get(chunkReads("disk")), "no retrieval waited for a disk read");

            // Then load: 6 long turns on one device with 2 batch slots.
            GenerationParams long64 = GenerationParams.greedy(64).withIgnoreEos(true);
            List<CompletableFuture<Reply>> running = new ArrayList<>();
            for (int i = 0; i < TURNS; i++) {
                running.add(server.runtime().conversation("default", "load-" + i).send("Tell me a story " + i, long64));
            }
            double maxBatch = 0;
            double maxQueue = 0;
            while (!running.stream().allMatch(CompletableFuture::isDone)) {
                Map<String, Double> m = scrape(server);
                double batch = m.get("memlong_batch_size");
                double queue = m.get("memlong_queue_depth");
                assertTrue(batch >= 0 && batch <= MAX_BATCH, "batch size " + batch);
                assertTrue(queue >= 0 && queue <= TURNS - 1, "queue depth " + queue);
                maxBatch = Math.max(maxBatch, batch);
                maxQueue = Math.max(maxQueue, queue);
                Thread.sleep(5);
            }
            for (CompletableFuture<Reply> r : running) {
                assertEquals(64, r.get().completionTokens());
            }
            assertEquals(MAX_BATCH, maxBatch, "both slots ran at once");
            assertTrue(maxQueue >= 1, "turns waited for a slot, max queue depth seen " + maxQueue);
            Map<String, Double> done = scrape(server);
            assertEquals(0.0, done.get("memlong_batch_size"));
            assertEquals(0.0, done.get("memlong_queue_depth"));
            assertEquals(0.0, done.get("memlong_trainer_rounds_total"), "no training round ran in this runtime");
        }
    }

    /**
     * {@code memlong_trainer_rounds_total} is the runtime's trainer's count (through {@code RuntimeStats}): 0, then
     * 1 after a round ran on the dialogue of real turns. A tiny round (LoRA rank 4, 2 steps) on the fixture model.
     */
    @Test
    void trainerRoundsAreTheRoundsTheTrainerRan(@TempDir Path dir) throws Exception {
        Config config = ConfigFactory.parseString("""
                %s.trainer {
                  min-tokens = 16, heldout-fraction = 0.3, tolerance = 1.0, lora { rank = 4, alpha = 8, dropout = 0 }
                  learning-rate = 1e-3, warmup-steps = 1, max-steps = 2, batch-slots = 2, segment-length = 32
                  threads = 1, duty-cycle = 1.0
                }
                """.formatted(ChatServer.actorSettingsRoot())).withFallback(ChatServerTest.config(dir));
        try (ChatServer server = ChatServer.builder(config).retriever(RETRIEVER).environment(Map.of()).start()) {
            assertEquals(0.0, scrape(server).get("memlong_trainer_rounds_total"));
            assertEquals(0.0, scrape(server).get("memlong_trainer_rounds_published_total"));
            GenerationParams eight = GenerationParams.greedy(8).withIgnoreEos(true);
            for (int i = 0; i < 4; i++) {
                Conversation c = server.runtime().conversation("default", "trained-" + i);
                c.send("My dog number " + i + " is called Rex and likes the river.", eight).get();
                c.send("What is dog number " + i + " called?", eight).get();
            }
            RoundReport report = server.runtime().train().toCompletableFuture().get(5, TimeUnit.MINUTES);
            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.toString());
            RuntimeStats stats = server.runtime().stats();
            assertEquals(1, stats.trainerRounds());
            assertEquals(1, stats.trainerRoundsPublished());
            assertEquals(server.runtime().trainerStats().roundsRun(), stats.trainerRounds());
            Map<String, Double> after = scrape(server);
            assertEquals(1.0, after.get("memlong_trainer_rounds_total"));
            assertEquals(1.0, after.get("memlong_trainer_rounds_published_total"));
        }
    }

    /** The unlabelled samples of the Prometheus text exposition, by name. */
    private static String chunkReads(String source) {
        return "memlong_memory_chunk_reads_total{source=\"" + source + "\"}";
    }

    private static Map<String, Double> scrape(ChatServer server) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + "metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Double> samples = new java.util.HashMap<>();
        for (String line : body.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            int space = line.trim().lastIndexOf(' '); // a sample: name{labels} value
            samples.put(line.trim().substring(0, space), Double.parseDouble(line.trim().substring(space + 1)));
        }
        return samples;
    }
}
