package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.memlong.runtime.retriever.Retriever;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Swapping versions while turns stream: every turn completes, each step ran on one version (the turns record the
 * versions of their steps in order), and a window written by several versions is rebuilt before its next turn. A turn
 * waiting for its retriever embeddings (async-embedding) when a swap arrives goes on with the new version.
 */
class TrainerSwapTest {

    @TempDir
    Path data;

    /** A streamed turn: its deltas counted, its reply (or error) in {@code done}. */
    /** Tokens of the turns that stream across two swaps: enough steps for both swaps to land inside them. */
    private static final int LONG_TURN = 1000;

    private record Streamed(AtomicInteger deltas, CompletableFuture<Reply> done) {}

    private static Streamed stream(Conversation c, String text, GenerationParams params) {
        Streamed s = new Streamed(new AtomicInteger(), new CompletableFuture<>());
        c.stream(text, params).subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription subscription) {
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(StreamEvent item) {
                switch (item) {
                    case StreamEvent.Delta d -> s.deltas().incrementAndGet();
                    case StreamEvent.Completed done -> s.done().complete(done.reply());
                }
            }

            @Override
            public void onError(Throwable throwable) {
                s.done().completeExceptionally(throwable);
            }

            @Override
            public void onComplete() {
            }
        });
        return s;
    }

    /** The hashing retriever; once closed, every embed call waits until it is opened again. */
    static final class GatedRetriever implements Retriever {
        volatile CountDownLatch gate;
        final CountDownLatch entered = new CountDownLatch(1);
        final Set<String> blockedThreads = ConcurrentHashMap.newKeySet();

        @Override
        public float[][] embed(List<String> texts) {
            CountDownLatch g = gate;
            if (g != null) {
                blockedThreads.add(Thread.currentThread().getName());
                entered.countDown();
                try {
                    g.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
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

    /**
     * A turn of a conversation with memory sits out while the embedding dispatcher embeds what its next piece needs
     * (held there by the test). Meanwhile a rollback swaps version 0 in: the device thread is free, so the swap is
     * done between two of its steps while the turn still waits. Once the embeddings arrive the turn runs its piece
     * on version 0 and completes; its window, written by both versions, is rebuilt before the next turn.
     */
    @Test
    void aTurnWaitingForItsEmbeddingsGoesOnWithTheVersionSwappedInMeanwhile() throws Exception {
        GatedRetriever retriever = new GatedRetriever();
        try (MemLongRuntime rt = MemLongRuntime.builder(TestRuntimes.config(data, 1, 8, 16, TrainerFixtures.trainer(
                "memlong.actors.trainer.tolerance = 1.0\nmemlong.actors.async-embedding = on")))
                .retriever(retriever).start()) {
            TrainerFixtures.seedFour(rt.store());
            assertEquals(RoundReport.Outcome.PUBLISHED, rt.train().toCompletableFuture().join().outcome());
            Conversation c = rt.conversation("s", "remembering");
            Reply last = null;
            for (int i = 0; i < 2; i++) {
                last = c.send(TestRuntimes.message("Fact " + i + " is here.", 30, i),
                        GenerationParams.greedy(4).withIgnoreEos(true)).join();
            }
            assertTrue(last.memoryTokens() > 0, "the window overflowed into memory: later pieces embed");
            assertEquals(List.of(1L), last.modelVersions());

            CountDownLatch gate = new CountDownLatch(1);
            retriever.gate = gate;
            CompletableFuture<Reply> waiting = c.send(TestRuntimes.message("Tell me all facts.", 30, 9),
                    GenerationParams.greedy(24).withIgnoreEos(true));
            assertTrue(retriever.entered.await(60, TimeUnit.SECONDS), "the turn asked for embeddings");
            assertEquals(0L, rt.rollback(0).toCompletableFuture().get(60, TimeUnit.SECONDS),
                    "swapped while the turn waits for its embeddings");
            assertTrue(!waiting.isDone(), "the turn still waits");
            retriever.gate = null;
            gate.countDown();
            Reply r = waiting.get(60, TimeUnit.SECONDS);
            assertEquals(24, r.completionTokens());
            assertEquals(0L, r.modelVersion(), "its steps after the swap ran on version 0: " + r.modelVersions());
            assertTrue(List.of(List.of(0L), List.of(1L, 0L)).contains(r.modelVersions()), r.modelVersions().toString());
            assertTrue(retriever.blockedThreads.stream().noneMatch(t -> t.contains("dispatchers.device")),
                    "the device thread never waited for the embedder: " + retriever.blockedThreads);

            // its window holds rows of version 1 (and the piece it waited for, of version 0): rebuilt on version 0
            Reply next = c.send("And then?", GenerationParams.greedy(4)).join();
            assertEquals(List.of(0L), next.modelVersions());
            assertTrue(next.windowTokens() + next.memoryTokens() - r.memoryTokens()
                    <= next.promptTokens() + next.completionTokens(), "rebuilt: " + next);
            assertEquals(0, rt.stats().turnsFailed());
        }
    }

    @Test
    void turnsStreamingAcrossSwapsAllCompleteAndRecordTheVersionsOfTheirSteps() throws Exception {
        GenerationParams shortTurn = GenerationParams.greedy(4);
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer.tolerance = 1.0")) {
            TrainerFixtures.seedFour(rt.store());
            assertEquals(RoundReport.Outcome.PUBLISHED, rt.train().toCompletableFuture().join().outcome());
            List<Conversation> streaming = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Conversation c = rt.conversation("s", "stream-" + i);
                c.send("Hello there.", shortTurn).join(); // its window now lives on the device, built by version 1
                streaming.add(c);
            }
            Conversation control = rt.conversation("s", "control");
            Reply controlFirst = control.send("Hello there.", shortTurn).join();

            List<Streamed> turns = new ArrayList<>();
            for (Conversation c : streaming) {
                turns.add(stream(c, "Now tell me a long story.", GenerationParams.greedy(LONG_TURN).withIgnoreEos(true)));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (turns.stream().anyMatch(t -> t.deltas().get() < 5) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(turns.stream().allMatch(t -> !t.done().isDone()), "every turn still runs when the swaps start");
            List<CompletableFuture<Reply>> others = new ArrayList<>();
            for (int i = 0; i < 2; i++) { // turns admitted around the swaps
                others.add(rt.conversation("s", "other-" + i).send("Hi.", shortTurn));
            }
            assertEquals(0L, rt.rollback(0).toCompletableFuture().join());
            // On a machine loaded enough that loading a version outlasts the turns' remaining steps (seen once, with
            // two other builds running on two cores) they end before the swap: then there is nothing to test here.
            assumeTrue(turns.stream().noneMatch(t -> t.done().isDone()),
                    "the turns ended before version 0 was swapped in (a loaded machine): nothing to test");
            // let the streaming turns take steps on version 0 before swapping back: two swaps applied between the
            // same two steps would leave no step on 0 (a race that a loaded machine lost once)
            int[] atSwap = turns.stream().mapToInt(t -> t.deltas().get()).toArray();
            long swapDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < swapDeadline && java.util.stream.IntStream.range(0, turns.size())
                    .anyMatch(i -> turns.get(i).deltas().get() < atSwap[i] + 2)) {
                Thread.sleep(2);
            }
            assertEquals(1L, rt.rollback(1).toCompletableFuture().join());
            assumeTrue(turns.stream().noneMatch(t -> t.done().isDone()),
                    "the turns ended before version 1 was swapped back in (a loaded machine): nothing to test");

            List<Reply> streamed = new ArrayList<>();
            for (Streamed t : turns) {
                Reply r = t.done().get(120, TimeUnit.SECONDS); // none failed
                streamed.add(r);
                assertEquals(LONG_TURN, r.completionTokens());
                assertEquals(List.of(1L, 0L, 1L), r.modelVersions(),
                        "steps before the first swap on 1, between the swaps on 0, after them on 1");
            }
            for (CompletableFuture<Reply> other : others) {
                Reply r = other.get(60, TimeUnit.SECONDS);
                assertTrue(List.of(List.of(1L), List.of(0L), List.of(1L, 0L), List.of(0L, 1L), List.of(1L, 0L, 1L))
                        .contains(r.modelVersions()), "versions in swap order: " + r.modelVersions());
            }

            // the streamed windows were written by versions 1 and 0: rebuilt from the turn log before the next
            // turn; the control conversation's window (version 1 only) is resumed
            Reply rebuilt = streaming.get(0).send("And then?", shortTurn).join();
            Reply resumed = control.send("And then?", shortTurn).join();
            assertEquals(List.of(1L), rebuilt.modelVersions());
            assertEquals(List.of(1L), resumed.modelVersions());
            // tokens the turn left in window and memory: only its own when rebuilt (the long reply before it does
            // not fit the restore budget), more when the window still held the turn before
            long rebuiltHeld = rebuilt.windowTokens() + rebuilt.memoryTokens() - streamed.get(0).memoryTokens();
            long resumedHeld = resumed.windowTokens() + resumed.memoryTokens() - controlFirst.memoryTokens();
            assertTrue(rebuiltHeld <= rebuilt.promptTokens() + rebuilt.completionTokens(), "rebuilt: " + rebuilt);
            assertTrue(resumedHeld > resumed.promptTokens() + resumed.completionTokens(), "resumed: " + resumed);
            assertEquals(0, rt.stats().turnsFailed());
        }
    }
}
