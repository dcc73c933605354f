package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.actors.conversation.FaultInjector;
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
