package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.storage.ChunkSummary;
import dev.memlong.storage.Role;
import dev.memlong.storage.Turn;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ordering, isolation, streaming, storage commit and forget, on one runtime. */
class ConversationTest {

    private static final GenerationParams GREEDY = GenerationParams.greedy(8);

    @TempDir
    static Path data;
    private static MemLongRuntime rt;

    @BeforeAll
    static void start() {
        rt = TestRuntimes.start(data, 1, 4, 16);
    }

    @AfterAll
    static void stop() {
        rt.close();
    }

    @Test
    void turnsOfOneConversationRunInOrderAndAreCommittedWithTheirMemory() {
        Conversation c = rt.conversation("tenant-a", "ordered");
        List<CompletableFuture<Reply>> replies = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            replies.add(c.send(TestRuntimes.message("Message " + i + ":", 10, i), GREEDY.withIgnoreEos(true)));
        }
        replies.forEach(CompletableFuture::join);
        List<Turn> history = c.history().toCompletableFuture().join();
        assertEquals(10, history.size());
        for (int i = 0; i < 5; i++) {
            assertEquals(Role.USER, history.get(2 * i).role());
            assertTrue(history.get(2 * i).text().startsWith("Message " + i + ":"), history.get(2 * i).text());
            assertEquals(Role.ASSISTANT, history.get(2 * i + 1).role());
            assertEquals(replies.get(i).join().text(), history.get(2 * i + 1).text());
        }
        List<ChunkSummary> memory = c.memory().toCompletableFuture().join();
        assertFalse(memory.isEmpty(), "window overflow reached memory");
        long tokens = memory.stream().mapToLong(ChunkSummary::tokenCount).sum();
        assertEquals(replies.get(4).join().memoryTokens(), tokens, "every staged chunk was committed");
    }

    @Test
    void factsNeverLeakAcrossConversationsOrTenants() {
        Conversation told = rt.conversation("tenant-a", "shared-id");
        told.send(TestRuntimes.message("The secret word is zebra.", 40, 1), GREEDY).join();
        assertTrue(memoryText(told).contains("secret word is zebra"), memoryText(told));
        for (Conversation other : List.of(rt.conversation("tenant-b", "shared-id"),
                rt.conversation("tenant-a", "other-id"))) {
            other.send(TestRuntimes.message("Tell me about the zebra.", 30, 2), GREEDY).join();
            Reply r = other.send("What is the secret word? zebra?", GREEDY).join();
            List<String> own = other.memory().toCompletableFuture().join().stream().map(ChunkSummary::text).toList();
            assertFalse(r.retrieved().isEmpty());
            for (RetrievedChunk chunk : r.retrieved()) {
                assertTrue(own.contains(chunk.text()), "retrieved only from its own memory: " + chunk);
            }
            assertFalse(memoryText(other).contains("secret"), memoryText(other));
        }
    }

    private static String memoryText(Conversation c) {
        StringBuilder s = new StringBuilder();
        c.memory().toCompletableFuture().join().forEach(ch -> s.append(ch.text()));
        return s.toString();
    }

    @Test
    void aStreamDeliversDeltasThenTheCommittedReply() throws Exception {
        Conversation c = rt.conversation("tenant-a", "streamed");
        StringBuilder text = new StringBuilder();
        CompletableFuture<Reply> done = new CompletableFuture<>();
        c.stream("Hello there, how are you?", GenerationParams.greedy(10).withIgnoreEos(true))
                .subscribe(new Flow.Subscriber<>() {
                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        s.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(StreamEvent item) {
                        switch (item) {
                            case StreamEvent.Delta d -> text.append(d.text());
                            case StreamEvent.Completed r -> done.complete(r.reply());
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onComplete() { }
                });
        Reply reply = done.get(30, TimeUnit.SECONDS);
        assertEquals(reply.text(), text.toString());
        assertEquals(10, reply.completionTokens());
        assertTrue(reply.timeToFirstToken().toNanos() > 0);
    }

    @Test
    void cancellingAStreamFreesTheTurnAndLeavesNoTrace() throws Exception {
        Conversation c = rt.conversation("tenant-a", "cancelled");
        c.send("A first message.", GREEDY).join();
        CountDownLatch fiveTokens = new CountDownLatch(5);
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        c.stream("Now talk for a very long time.", GenerationParams.greedy(100_000).withIgnoreEos(true))
                .subscribe(new Flow.Subscriber<>() {
                    private Flow.Subscription subscription;

                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        subscription = s;
                        s.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(StreamEvent item) {
                        fiveTokens.countDown();
                        if (fiveTokens.getCount() == 0) {
                            subscription.cancel();
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.complete(t);
                    }

                    @Override
                    public void onComplete() {
                        ended.complete(null);
                    }
                });
        assertTrue(fiveTokens.await(30, TimeUnit.SECONDS));
        // the next turn runs at once: the cancelled one left the batch
        Reply next = c.send("Short question?", GREEDY).get(30, TimeUnit.SECONDS);
        assertTrue(next.completionTokens() > 0);
        List<Turn> history = c.history().toCompletableFuture().join();
        assertEquals(4, history.size(), "the cancelled turn was not committed");
        assertEquals("Short question?", history.get(2).text());

        // cancelled right away: whether it is still waiting or already running, it never commits
        CompletableFuture<Reply> cancelled = c.send("Talk again for a long time.",
                GenerationParams.greedy(100_000).withIgnoreEos(true));
        cancelled.cancel(true);
        assertTrue(c.send("Still there?", GREEDY).get(30, TimeUnit.SECONDS).completionTokens() > 0);
        assertEquals(6, c.history().toCompletableFuture().join().size());
        // a cancelled subscription gets no further signal (Reactive Streams 1.8): in particular no onComplete,
        // which would mean the cancelled reply was committed; two turns have run since the cancellation
        assertFalse(ended.isDone(), "the cancelled stream ended with " + ended.getNow(null));
    }

    @Test
    void aReplyLongerThanItsFirstBufferIsCompleteAndStopsAtMaxNewTokens() {
        int length = 600; // beyond the device's first buffer for generated ids, which grows as the reply does
        Reply r = rt.conversation("tenant-a", "long").send("Tell me everything.",
                GenerationParams.greedy(length).withIgnoreEos(true)).join();
        assertEquals(length, r.completionTokens());
        assertEquals(length, r.tokenIds().size());
        assertEquals(Reply.StopReason.LENGTH, r.stopReason());
    }

    @Test
    void forgetDeletesDialogueAndMemoryAndTheConversationStartsAfresh() {
        Conversation c = rt.conversation("tenant-a", "forgotten");
        c.send(TestRuntimes.message("Remember the lighthouse.", 40, 3), GREEDY).join();
        assertFalse(c.memory().toCompletableFuture().join().isEmpty());
        assertTrue(c.forget().toCompletableFuture().join());
        assertTrue(c.history().toCompletableFuture().join().isEmpty());
        assertTrue(c.memory().toCompletableFuture().join().isEmpty());
        Reply r = c.send("Hello again.", GREEDY).join();
        assertEquals(0, r.memoryTokens());
        assertEquals(2, c.history().toCompletableFuture().join().size());
    }

    @Test
    void anEmptyMessageIsRefused() {
        CompletionException e = assertThrows(CompletionException.class,
                () -> rt.conversation("tenant-a", "empty").send("  ", GREEDY).join());
        MemLongException cause = assertInstanceOf(MemLongException.class, e.getCause());
        assertEquals(MemLongException.Kind.INVALID, cause.kind());
    }
}
