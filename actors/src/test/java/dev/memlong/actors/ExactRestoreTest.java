package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.actors.conversation.FaultInjector;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.SavedWindow;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Passivation keeps the local window. Two runtimes run the same dialogue: on one the conversation never passivates,
 * on the other it passivates (after its window has shifted into memory several times) and is restored from
 * storage. The next turn, greedy over 40 tokens, is the same on both: any difference in the next-token logits'
 * argmax would show. And the restored conversation fed only the new turn, not a rebuilt window.
 *
 * <p>A saved window is only put back under the model version that computed it: after the trainer publishes another
 * version, the next turn rebuilds the window from the turn log instead of restoring stale cache rows.
 */
class ExactRestoreTest {

    private static final GenerationParams GREEDY = GenerationParams.greedy(40).withIgnoreEos(true);

    @Test
    void aRestoredConversationContinuesAsItsNeverPassivatedTwin(@TempDir Path data) throws Exception {
        List<String> turns = List.of(TestRuntimes.message("My dog is called Rex.", 30, 1),
                TestRuntimes.message("My cat is called Tom.", 30, 2),
                TestRuntimes.message("I live in Lisbon.", 30, 3));
        String question = "What is my dog called?";
        try (MemLongRuntime awake = TestRuntimes.start(data.resolve("awake"), 1, 4, 4,
                "memlong.actors.idle-timeout = 1h", FaultInjector.NONE);
             MemLongRuntime sleepy = TestRuntimes.start(data.resolve("sleepy"), 1, 4, 4,
                     "memlong.actors.idle-timeout = 500ms", FaultInjector.NONE)) {
            Conversation twin = awake.conversation("t", "c");
            Conversation sleeper = sleepy.conversation("t", "c");
            for (String text : turns) {
                assertEquals(twin.send(text, GREEDY).join().tokenIds(), sleeper.send(text, GREEDY).join().tokenIds());
            }
            assertTrue(sleeper.memory().toCompletableFuture().join().size() > 4, "the window shifted into memory");

            waitUntil(() -> sleepy.activeConversations() == 0);
            Reply restored = sleeper.send(question, GREEDY).join();
            Reply expected = twin.send(question, GREEDY).join();
            assertEquals(expected.promptTokens(), restored.promptTokens(), "only the new turn was fed");
            assertEquals(expected.windowTokens(), restored.windowTokens());
            assertEquals(expected.memoryTokens(), restored.memoryTokens());
            assertEquals(expected.tokenIds(), restored.tokenIds());

            // and again, after a second passivation (the restored window is saved anew)
            waitUntil(() -> sleepy.activeConversations() == 0);
            assertEquals(twin.send("And my cat?", GREEDY).join().tokenIds(),
                    sleeper.send("And my cat?", GREEDY).join().tokenIds());
        }
    }

    /**
     * Two conversations with the same dialogue passivate under version 0; the twin's saved window is deleted, so
     * its next turn must rebuild. A round then publishes version 1. The sleeper's saved window still matches its
     * turn and chunk counters (the round only moved the trainer's cursor) but was computed by version 0: its next
     * turn rebuilds too, token for token as the twin, keeping only that turn's tokens (a restored window would
     * keep the saved window's tokens as well). Passivated again under version 1, both windows are saved with
     * version 1 and restored.
     */
    @Test
    void aWindowSavedUnderAnotherModelVersionIsRebuiltNotRestored(@TempDir Path data) throws Exception {
        List<String> turns = List.of(TestRuntimes.message("My dog is called Rex.", 30, 1),
                TestRuntimes.message("My cat is called Tom.", 30, 2));
        ConversationKey sleeperKey = new ConversationKey("t", "sleeper");
        ConversationKey twinKey = new ConversationKey("t", "twin");
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, """
                memlong.actors.trainer.tolerance = 1.0
                memlong.actors.idle-timeout = 500ms
                """)) {
            TrainerFixtures.seedFour(rt.store());
            Conversation sleeper = rt.conversation(sleeperKey.tenant(), sleeperKey.conversationId());
            Conversation twin = rt.conversation(twinKey.tenant(), twinKey.conversationId());
            Reply before = null;
            for (String text : turns) {
                before = sleeper.send(text, GREEDY).join();
                assertEquals(before.tokenIds(), twin.send(text, GREEDY).join().tokenIds());
                assertEquals(List.of(0L), before.modelVersions());
            }
            waitUntil(() -> rt.activeConversations() == 0);
            assertEquals(0, savedWindow(rt, sleeperKey).modelVersion(), "saved under version 0");
            rt.store().deleteWindow(twinKey);

            assertEquals(RoundReport.Outcome.PUBLISHED, rt.train().toCompletableFuture().join().outcome());
            assertEquals(1, rt.servingVersion());
            assertEquals(0, savedWindow(rt, sleeperKey).modelVersion(), "still current for storage, but version 0's");

            String question = "What is my dog called?";
            Reply rebuilt = sleeper.send(question, GREEDY).join();
            Reply expected = twin.send(question, GREEDY).join();
            assertEquals(List.of(1L), rebuilt.modelVersions());
            assertEquals(expected.promptTokens(), rebuilt.promptTokens(), "fed the rebuilt window, as the twin");
            assertEquals(expected.windowTokens(), rebuilt.windowTokens());
            assertEquals(expected.memoryTokens(), rebuilt.memoryTokens());
            assertEquals(expected.tokenIds(), rebuilt.tokenIds(), "the reply of a rebuilt window on version 1");
            assertTrue(held(rebuilt, before) <= rebuilt.promptTokens() + rebuilt.completionTokens(),
                    "only the turn's own tokens were kept, none of the saved window's: " + rebuilt);

            // saved under version 1 now, and put back under version 1
            waitUntil(() -> rt.activeConversations() == 0);
            assertEquals(1, savedWindow(rt, sleeperKey).modelVersion());
            assertEquals(1, savedWindow(rt, twinKey).modelVersion());
            Reply restored = sleeper.send("And my cat?", GREEDY).join();
            assertEquals(twin.send("And my cat?", GREEDY).join().tokenIds(), restored.tokenIds());
            assertTrue(held(restored, rebuilt) > restored.promptTokens() + restored.completionTokens(),
                    "the restored window kept what it held before the turn: " + restored);
        }
    }

    private static SavedWindow savedWindow(MemLongRuntime rt, ConversationKey key) {
        return rt.store().savedWindow(key, TrainerFixtures.MODEL_ID).orElseThrow(() -> new AssertionError(
                "no saved window for " + key));
    }

    /** Tokens in window and memory after {@code reply} that were not in memory after {@code previous}. */
    private static long held(Reply reply, Reply previous) {
        return reply.windowTokens() + reply.memoryTokens() - previous.memoryTokens();
    }

    static void waitUntil(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met in 30 s");
            }
            Thread.sleep(50);
        }
    }
}
