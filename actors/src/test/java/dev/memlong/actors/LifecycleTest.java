package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.conversation.FaultInjector;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.Turn;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Passivation and restore, restart after a failure, overload refusal, configuration errors. */
class LifecycleTest {

    private static final GenerationParams GREEDY = GenerationParams.greedy(6).withIgnoreEos(true);

    @Test
    void idleConversationsPassivateAndRestoreFromStorage(@TempDir Path data) {
        List<Reply> before = new ArrayList<>();
        // a cache slot for each conversation: with fewer, a later conversation could take idle-0's slot before it
        // passivates (whether it does depends on timing), and its window would then be rebuilt, not restored
        try (MemLongRuntime rt = TestRuntimes.start(data, 1, 3, 4, "memlong.actors.idle-timeout = 300ms",
                FaultInjector.NONE)) {
            for (int i = 0; i < 3; i++) {
                Conversation c = rt.conversation("t", "idle-" + i);
                before.add(c.send(TestRuntimes.message("I live in Lisbon " + i + ".", 40, i), GREEDY).join());
            }
            waitUntil(() -> rt.activeConversations() == 0);
            Conversation c = rt.conversation("t", "idle-0");
            Reply restored = c.send("Where do I live?", GREEDY).join();
            assertTrue(restored.promptTokens() < 20, "the saved window came back: only the new turn was fed, "
                    + restored.promptTokens() + " prompt tokens (ExactRestoreTest checks it continues exactly)");
            // the memory came back; feeding the new turn into the restored (full) window may move part of it to
            // memory too
            assertTrue(restored.memoryTokens() >= before.get(0).memoryTokens(), "memory came back from storage: "
                    + before.get(0).memoryTokens() + " -> " + restored.memoryTokens());
            assertEquals(4, c.history().toCompletableFuture().join().size());
        }
        // a new runtime on the same data continues the same conversation with its memory
        try (MemLongRuntime rt = TestRuntimes.start(data, 1, 2, 4)) {
            Conversation c = rt.conversation("t", "idle-1");
            Reply r = c.send("Where do I live?", GREEDY).join();
            // the memory came back; the saved window came back too, so this turn may move part of it to memory
            assertTrue(r.memoryTokens() >= before.get(1).memoryTokens(), r.memoryTokens() + " memory tokens");
            assertTrue(r.promptTokens() < 20, "the saved window came back: " + r.promptTokens() + " prompt tokens");
            assertEquals(4, c.history().toCompletableFuture().join().size());
        }
    }

    @Test
    void aFailingConversationRestartsFromStorageWithoutDisturbingOthers(@TempDir Path data) {
        FaultInjector crashOnDemand = (key, text) -> {
            if (text.contains("CRASH")) {
                throw new IllegalStateException("injected failure");
            }
        };
        try (MemLongRuntime rt = TestRuntimes.start(data, 1, 4, 8, "", crashOnDemand)) {
            Conversation failing = rt.conversation("t", "failing");
            Conversation bystander = rt.conversation("t", "bystander");
            failing.send(TestRuntimes.message("My boat is red.", 30, 1), GREEDY).join();
            int memoryBefore = failing.memory().toCompletableFuture().join().size();
            CompletableFuture<Reply> other = bystander.send(TestRuntimes.message("Hello.", 30, 2), GREEDY);
            CompletableFuture<Reply> crash = failing.send(TestRuntimes.message("CRASH now.", 30, 3), GREEDY);
            CompletableFuture<Reply> queued = failing.send("And after?", GREEDY);
            CompletionException e = assertThrows(CompletionException.class, crash::join);
            assertEquals(MemLongException.Kind.CONVERSATION_FAILED,
                    assertInstanceOf(MemLongException.class, e.getCause()).kind());
            assertTrue(other.join().completionTokens() > 0, "the other conversation was not affected");
            CompletionException waiting = assertThrows(CompletionException.class, queued::join,
                    "a message waiting behind the failed turn gets an error, not silence");
            assertInstanceOf(MemLongException.class, waiting.getCause());
            Reply after = failing.send("Are you back?", GREEDY).join();
            assertTrue(after.completionTokens() > 0);
            List<Turn> history = failing.history().toCompletableFuture().join();
            assertEquals(4, history.size());
            assertTrue(history.stream().noneMatch(t -> t.text().contains("CRASH")), "the failed turn left no trace");
            assertTrue(failing.memory().toCompletableFuture().join().stream()
                    .noneMatch(ch -> ch.text().contains("CRASH")), "nor did its window overflow");
            assertTrue(failing.memory().toCompletableFuture().join().size() >= memoryBefore);
        }
    }

    @Test
    void beyondBatchAndQueueATurnIsRefusedAtOnce(@TempDir Path data) {
        try (MemLongRuntime rt = TestRuntimes.start(data, 1, 1, 1)) {
            CountDownLatch generating = new CountDownLatch(1);
            AtomicReference<Flow.Subscription> running = new AtomicReference<>();
            rt.conversation("t", "a").stream("Go on and on.", GenerationParams.greedy(100_000).withIgnoreEos(true))
                    .subscribe(new Flow.Subscriber<>() {
                        @Override
                        public void onSubscribe(Flow.Subscription s) {
                            running.set(s);
                            s.request(Long.MAX_VALUE);
                        }

                        @Override
                        public void onNext(StreamEvent item) {
                            generating.countDown();
                        }

                        @Override
                        public void onError(Throwable t) { }

                        @Override
                        public void onComplete() { }
                    });
            assertTrue(TestRuntimes.await(generating));
            CompletableFuture<Reply> queued = rt.conversation("t", "b").send("Me too.", GREEDY);
            waitUntil(() -> rt.stats().queueDepth() == 1); // the queue is full now: the next turn is refused
            long start = System.nanoTime();
            CompletionException e = assertThrows(CompletionException.class,
                    () -> rt.conversation("t", "c").send("And me.", GREEDY).join());
            MemLongException refused = assertInstanceOf(MemLongException.class, e.getCause());
            assertEquals(MemLongException.Kind.OVERLOADED, refused.kind());
            assertEquals("overloaded", refused.code());
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "refused at once");
            running.get().cancel();
            assertTrue(queued.join().completionTokens() > 0, "the queued turn ran once the slot was free");
        }
    }

    /**
     * A commit that outlives the runtime's shutdown-timeout: close stops the actors while it is on its way to the
     * store. The caller's answer must agree with what the store holds once reopened: its reply and the turn stored,
     * or an error and nothing stored (a caller told "shutting down" for a stored turn would retry and duplicate it).
     */
    @Test
    void aCommitThatOutlivesTheActorsAnswersItsCallerAsTheStoreHasIt(@TempDir Path data) throws Exception {
        CountDownLatch storing = new CountDownLatch(1);
        CountDownLatch slowDisk = new CountDownLatch(1);
        FaultInjector slowCommit = new FaultInjector() {
            @Override
            public void beforeCommit(ConversationKey key, String userText) { }

            @Override
            public void beforeStore(ConversationKey key) {
                storing.countDown();
                TestRuntimes.await(slowDisk);
            }
        };
        String extra = "memlong.actors.shutdown-timeout = 2s";
        MemLongRuntime rt = TestRuntimes.start(data, 1, 2, 4, extra, slowCommit);
        CompletableFuture<Reply> turn = rt.conversation("t", "late").send("Remember the blue door.", GREEDY);
        assertTrue(TestRuntimes.await(storing));
        CompletableFuture<Void> closing = CompletableFuture.runAsync(rt::close);
        // close waits shutdown-timeout for the turn, then stops the actors with the commit still held back
        rt.actorsStopped().get(30, TimeUnit.SECONDS);
        slowDisk.countDown(); // now the commit goes through, while close waits for store work (shutdown-timeout)
        closing.get(30, TimeUnit.SECONDS);

        AtomicReference<Throwable> failure = new AtomicReference<>();
        Reply reply = turn.handle((r, e) -> {
            failure.set(e);
            return r;
        }).get(30, TimeUnit.SECONDS);
        List<Turn> stored;
        try (ConversationStore store = ConversationStore.open(
                StorageSettings.from(ConfigFactory.load(TestRuntimes.config(data, 1, 2, 4, extra))))) {
            stored = store.history(new ConversationKey("t", "late"));
        }
        if (reply == null) {
            assertEquals(List.of(), stored, "the caller got " + failure.get() + ", yet the turn was stored");
        } else {
            assertEquals(List.of("Remember the blue door.", reply.text()), stored.stream().map(Turn::text).toList(),
                    "the caller got its reply: the turn is stored");
        }
        assertNotNull(reply, "the commit went through within shutdown-timeout, so the caller gets its reply, not "
                + failure.get());
    }

    @Test
    void runtimesSharingOneActorSystemRunTurnsSideBySide(@TempDir Path first, @TempDir Path second)
            throws Exception {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "shared");
        try (MemLongRuntime a = shared(system, first); MemLongRuntime b = shared(system, second)) {
            // turn 1 of each runtime at the same time: the actors that receive their events live side by side
            CompletableFuture<Reply> endless = a.conversation("t", "a").send("Go on and on.",
                    GenerationParams.greedy(100_000).withIgnoreEos(true));
            assertTrue(b.conversation("t", "b").send("Hello.", GREEDY).get(30, TimeUnit.SECONDS)
                    .completionTokens() > 0);
            assertEquals(1, a.stats().turnsInFlight(), "the first runtime's turn still runs");
            endless.cancel(true);
            waitUntil(() -> a.stats().turnsInFlight() == 0 && b.stats().turnsInFlight() == 0);
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * A turn whose answer never comes (its messages lost on the way: here, a sink no conversation was told about) is
     * answered SHUTTING_DOWN when the runtime closes, on its own actor system and on a shared one, instead of leaving
     * its caller waiting forever.
     */
    @Test
    void aTurnWhoseAnswerWasLostIsAnsweredShuttingDownOnClose(@TempDir Path own, @TempDir Path onShared)
            throws Exception {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "shared-lost");
        try {
            for (boolean sharedSystem : new boolean[] {false, true}) {
                // close() first waits shutdown-timeout for running turns, which this one never ends: keep it short
                var config = TestRuntimes.config(sharedSystem ? onShared : own, 1, 2, 2,
                        "memlong.actors.shutdown-timeout = 1s");
                var builder = MemLongRuntime.builder(config).retriever(TestRuntimes.RETRIEVER);
                MemLongRuntime rt = (sharedSystem ? builder.actorSystem(system) : builder).start();
                CompletableFuture<dev.memlong.actors.conversation.TurnEvent> answer = new CompletableFuture<>();
                rt.turnSink(rt.nextTurnId(), event -> {
                    if (!(event instanceof dev.memlong.actors.conversation.TurnEvent.Delta)) {
                        answer.complete(event);
                    }
                });
                assertEquals(1, rt.stats().turnsInFlight());
                rt.close();
                var error = assertInstanceOf(dev.memlong.actors.conversation.TurnEvent.Error.class,
                        answer.get(10, TimeUnit.SECONDS), "shared system: " + sharedSystem);
                assertEquals(MemLongException.Kind.SHUTTING_DOWN, error.error().kind());
                assertEquals(0, rt.stats().turnsInFlight());
            }
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static MemLongRuntime shared(ActorSystem<?> system, Path data) {
        return MemLongRuntime.builder(TestRuntimes.config(data, 1, 2, 2, "")).retriever(TestRuntimes.RETRIEVER)
                .actorSystem(system).start();
    }

    @Test
    void unknownAndInvalidKeysFailNamingTheKey(@TempDir Path data) {
        assertStartFails(data, "memlong.actors.max-batchh = 3", "memlong.actors.max-batchh");
        assertStartFails(data, "memlong.actors.max-batch = 0", "memlong.actors.max-batch");
        assertStartFails(data, "memlong.model.dtype = int8", "memlong.model.dtype");
        // bfloat16 compute aborted the JVM inside DJL: refused instead
        assertStartFails(data, "memlong.model.dtype = bfloat16", "memlong.model.dtype");
        assertStartFails(data, "memlong.model.kv-cache-dtype = float16", "memlong.model.kv-cache-dtype");
        // the Java decode step, which alone reads bfloat16 caches, runs on CPU devices
        assertStartFails(data, "memlong.model.kv-cache-dtype = bfloat16\nmemlong.actors.devices = [\"cpu\", \"gpu:0\"]",
                "memlong.model.kv-cache-dtype");
        assertStartFails(data, "memlong.model.dirr = x", "memlong.model.dirr");
        assertStartFails(data, "memlong.retriever.kind = word2vec", "memlong.retriever.kind");
        // the former root of this module's keys points to where they went
        assertStartFails(data, "memlong.runtime.model = x", "memlong.model.dir");
        assertStartFails(data, "memlong.runtime.max-batch = 3", "memlong.actors.max-batch");
    }

    @Test
    void anInvalidModelDirectoryFailsStartNamingTheKey(@TempDir Path data, @TempDir Path empty) throws Exception {
        IllegalArgumentException missing = assertStartFails(data,
                "memlong.model.dir = \"" + empty.resolve("nowhere").toString().replace("\\", "/") + "\"",
                "memlong.model.dir");
        assertTrue(missing.getMessage().contains("is not a directory"), missing.getMessage());
        assertStartFails(data, "memlong.model.dir = \"" + empty.toString().replace("\\", "/") + "\"",
                "memlong.model.dir");
        // config and tokenizer but no weights: every device fails to load, so start fails (and names the directory)
        Path noWeights = empty.resolve("no-weights");
        java.nio.file.Files.createDirectories(noWeights);
        for (String file : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Path source = TestRuntimes.model().resolve(file);
            if (java.nio.file.Files.exists(source)) {
                java.nio.file.Files.copy(source, noWeights.resolve(file));
            }
        }
        long start = System.nanoTime();
        IllegalStateException noDevice = assertThrows(IllegalStateException.class, () -> MemLongRuntime.start(
                ConfigFactory.parseString("memlong.model.dir = \"" + noWeights.toString().replace("\\", "/") + "\"")
                        .withFallback(TestRuntimes.config(data, 2, 2, 2, ""))));
        assertTrue(noDevice.getMessage().contains("no device could load the model")
                && noDevice.getMessage().contains("memlong.model.dir"), noDevice.getMessage());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(30), "fails fast");
        // the data directory was released: a good runtime opens it right after
        try (MemLongRuntime rt = TestRuntimes.start(data, 1, 2, 2)) {
            assertTrue(rt.conversation("t", "after").send("Hello.", GREEDY).join().completionTokens() > 0);
        }
    }

    private static IllegalArgumentException assertStartFails(Path data, String override, String key) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemLongRuntime.start(
                ConfigFactory.parseString(override).withFallback(TestRuntimes.config(data, 1, 2, 2, ""))), override);
        assertTrue(e.getMessage().contains(key), override + " -> " + e.getMessage());
        return e;
    }

    private static void waitUntil(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in 20 s");
            }
            sleep(50);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
