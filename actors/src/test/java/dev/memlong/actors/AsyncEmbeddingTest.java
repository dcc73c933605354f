package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.retriever.Retriever;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retriever embeds off the device thread. With a deliberately slow embedder (50 ms a call), a conversation
 * with memory retrieves at every chunk boundary of its reply while a second one decodes beside it: with
 * {@code async-embedding} on, no embedding runs on a device thread and the second conversation's tokens keep
 * coming; off, the device thread embeds and stalls the whole batch. Replies are the same either way.
 */
class AsyncEmbeddingTest {

    private static final long EMBED_MILLIS = 50;

    /** The hashing retriever, slowed down, noting which threads call it. */
    static final class SlowRetriever implements Retriever {
        final Set<String> threads = ConcurrentHashMap.newKeySet();
        private final long millis;

        SlowRetriever() {
            this(EMBED_MILLIS);
        }

        SlowRetriever(long millisPerText) {
            this.millis = millisPerText;
        }

        @Override
        public float[][] embed(List<String> texts) {
            threads.add(Thread.currentThread().getName());
            try {
                Thread.sleep(millis * texts.size());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return TestRuntimes.RETRIEVER.embed(texts);
        }

        @Override
        public String id() {
            return TestRuntimes.RETRIEVER.id();
        }

        @Override
        public int dimension() {
            return TestRuntimes.RETRIEVER.dimension();
        }

        @Override
        public void close() { }
    }

    private record Run(List<Integer> withMemory, List<Integer> bystander, long bystanderMaxGapMillis,
                       Set<String> embeddingThreads) {}

    private static Run run(Path data, boolean async) throws Exception {
        SlowRetriever retriever = new SlowRetriever();
        try (MemLongRuntime rt = MemLongRuntime.builder(TestRuntimes.config(data, 1, 4, 4,
                "memlong.actors.async-embedding = " + async)).retriever(retriever).start()) {
            Conversation remembering = rt.conversation("t", "remembering");
            for (int i = 0; i < 3; i++) {
                remembering.send(TestRuntimes.message("Fact " + i + " is here.", 25, i), GenerationParams.greedy(4)
                        .withIgnoreEos(true)).join();
            }
            // The bystander starts only once the long reply is decoding (its 4th token has arrived): started
            // earlier, it could finish inside the long reply's prefill, before any chunk boundary, and see no stall.
            CompletableFuture<Void> longDecoding = new CompletableFuture<>();
            CompletableFuture<Reply> long64 = collect(remembering.stream("Tell me everything.",
                    GenerationParams.greedy(64).withIgnoreEos(true)), 4, longDecoding, null);
            longDecoding.join();
            // the bystander has no memory yet and stays within its window: it never embeds itself
            List<Long> arrivals = new CopyOnWriteArrayList<>();
            CompletableFuture<Reply> bystander = collect(rt.conversation("t", "bystander").stream("Hi.",
                    GenerationParams.greedy(20).withIgnoreEos(true)), 1, new CompletableFuture<>(), arrivals);
            Reply b = bystander.join();
            Reply a = long64.join();
            long maxGap = 0;
            for (int i = 1; i < arrivals.size(); i++) {
                maxGap = Math.max(maxGap, (arrivals.get(i) - arrivals.get(i - 1)) / 1_000_000);
            }
            assertTrue(a.retrieved().size() > 0 && a.retrievalTime().toMillis() >= EMBED_MILLIS,
                    "the long reply retrieved: " + a.retrievalTime());
            return new Run(a.tokenIds(), b.tokenIds(), maxGap, Set.copyOf(retriever.threads));
        }
    }

    /**
     * Subscribes to a reply stream: completes {@code started} at the {@code startAfter}-th token, notes every
     * token's arrival time in {@code arrivals} (when given), and returns the final reply.
     */
    private static CompletableFuture<Reply> collect(Flow.Publisher<StreamEvent> events, int startAfter,
                                                    CompletableFuture<Void> started, List<Long> arrivals) {
        CompletableFuture<Reply> done = new CompletableFuture<>();
        events.subscribe(new Flow.Subscriber<>() {
            private int tokens;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(StreamEvent item) {
                switch (item) {
                    case StreamEvent.Delta d -> {
                        if (arrivals != null) {
                            arrivals.add(System.nanoTime());
                        }
                        if (++tokens == startAfter) {
                            started.complete(null);
                        }
                    }
                    case StreamEvent.Completed c -> {
                        started.complete(null);
                        done.complete(c.reply());
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                started.completeExceptionally(t);
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() { }
        });
        return done;
    }

    /**
     * The same text twice among what one step embeds: a window overflow whose chunks say the same thing (a message of
     * one word repeated), and two conversations whose windows hold the same text, so both ask for the same vectors.
     * Every one of them comes from the embedding dispatcher: until the prefetched vectors were kept for every
     * sequence that needs them in a step, a vector was handed out once and each repeat of its text was embedded on
     * the device thread, one by one, stalling the whole batch (measured on the ~110M bench model with bge-small: an
     * overflow step of 100-190 ms where an ordinary one took 22 ms).
     */
    @Test
    void repeatedTextsAreEmbeddedOffTheDeviceThreadToo(@TempDir Path dir) {
        SlowRetriever retriever = new SlowRetriever(1);
        String repeated = "the" + " the".repeat(150);
        try (MemLongRuntime rt = MemLongRuntime.builder(TestRuntimes.config(dir, 1, 4, 4,
                "memlong.actors.async-embedding = on")).retriever(retriever).start()) {
            List<Conversation> conversations = List.of(rt.conversation("t", "a"), rt.conversation("t", "b"));
            List<CompletableFuture<Reply>> replies = conversations.stream()
                    .map(c -> c.send(repeated, GenerationParams.greedy(8).withIgnoreEos(true))).toList();
            for (CompletableFuture<Reply> r : replies) {
                assertTrue(r.join().memoryTokens() > 0, "the window overflowed into memory");
            }
            for (Conversation c : conversations) {
                List<String> texts = c.memory().toCompletableFuture().join().stream()
                        .map(dev.memlong.storage.ChunkSummary::text).toList();
                assertTrue(texts.size() > Set.copyOf(texts).size(), "stored chunks repeat a text: " + texts);
            }
        }
        assertTrue(retriever.threads.stream().noneMatch(t -> t.contains("dispatchers.device")),
                "embedded on " + retriever.threads);
    }

    @Test
    void embeddingRunsOffTheDeviceThreadAndTheBatchKeepsDecoding(@TempDir Path dir) throws Exception {
        Run async = run(dir.resolve("async"), true);
        Run inline = run(dir.resolve("inline"), false);
        assertEquals(inline.withMemory(), async.withMemory(), "the same reply either way");
        assertEquals(inline.bystander(), async.bystander());
        assertTrue(async.embeddingThreads().stream().noneMatch(t -> t.contains("dispatchers.device")),
                "embedded on " + async.embeddingThreads());
        assertTrue(inline.embeddingThreads().stream().anyMatch(t -> t.contains("dispatchers.device")),
                "the inline run embeds on the device thread: " + inline.embeddingThreads());
        List<Long> gaps = new ArrayList<>(List.of(async.bystanderMaxGapMillis(), inline.bystanderMaxGapMillis()));
        assertTrue(inline.bystanderMaxGapMillis() >= EMBED_MILLIS,
                "inline, an embedding stalls the bystander: max gaps (async, inline) ms " + gaps);
        assertTrue(async.bystanderMaxGapMillis() < inline.bystanderMaxGapMillis(),
                "async, the bystander keeps decoding: max gaps (async, inline) ms " + gaps);
        System.out.println("bystander max inter-token gap ms: async " + async.bystanderMaxGapMillis() + ", inline "
                + inline.bystanderMaxGapMillis());
    }
}
