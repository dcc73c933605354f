package dev.memlong.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.EvictionPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SavedWindowAndSystemPromptTest {

    @TempDir
    Path dir;

    private static final SavedWindow WINDOW = new SavedWindow("model-a", 3, new int[] {5, 6, 7}, 9,
            new byte[] {1, 2, 3});

    @Test
    void aSavedWindowIsReadBackUntilTheConversationChanges() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            store.saveWindow(key, WINDOW);
            SavedWindow read = store.savedWindow(key, "model-a").orElseThrow();
            assertArrayEquals(WINDOW.tokenIds(), read.tokenIds());
            assertArrayEquals(WINDOW.cacheRows(), read.cacheRows());
            assertEquals(9, read.unfedToken());
            assertEquals(3, read.modelVersion(), "stamped with the model version that computed the rows");
            assertEquals(Optional.empty(), store.savedWindow(key, "model-b"), "another model's cache rows");

            store.commitTurn(key, TurnCommit.of("q2", 1, "a2", 1, List.of(TestStores.chunk("x"))));
            assertEquals(Optional.empty(), store.savedWindow(key, "model-a"), "a later turn makes it stale");

            store.saveWindow(key, new SavedWindow("model-a", 0, new int[0], -1, new byte[0]));
            assertEquals(-1, store.savedWindow(key, "model-a").orElseThrow().unfedToken());
            store.deleteWindow(key);
            assertEquals(Optional.empty(), store.savedWindow(key, "model-a"));

            store.saveWindow(key, WINDOW);
            assertTrue(store.forget(key));
            TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            assertEquals(Optional.empty(), store.savedWindow(key, "model-a"), "forget deletes the window too");
        }
    }

    @Test
    void theSystemPromptIsTheLatestSystemMessage() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            assertEquals(Optional.empty(), store.systemPrompt(key));
            store.commitTurn(key, new TurnCommit(List.of(new TurnMessage(Role.SYSTEM, "Be brief.", 3),
                    new TurnMessage(Role.USER, "hi", 1), new TurnMessage(Role.ASSISTANT, "hello", 1)), List.of()));
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            assertEquals(Optional.of("Be brief."), store.systemPrompt(key));
            store.appendTurn(key, new TurnMessage(Role.SYSTEM, "Be verbose.", 3));
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            assertEquals(Optional.of("Be verbose."), store.systemPrompt(key));
        }
    }

    /** The system prompt's turn and the trainer's cursor are different fields of the conversation's record. */
    @Test
    void theSystemPromptAndTheTrainingCursorDoNotShareAField() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = TestStores.create(store, "c", 1000, EvictionPolicy.FREQUENCY);
            store.commitTurn(key, new TurnCommit(List.of(new TurnMessage(Role.SYSTEM, "Be brief.", 3),
                    new TurnMessage(Role.USER, "hi", 1), new TurnMessage(Role.ASSISTANT, "hello", 1)), List.of()));
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            ConversationInfo info = store.conversation(key).orElseThrow();
            store.markTrained(List.of(new TrainedRange(key, 0, 5, info.createdAtMs(), false)));
            assertEquals(5, store.conversation(key).orElseThrow().trainedToSeq());
            assertEquals(Optional.of("Be brief."), store.systemPrompt(key), "the cursor left the system prompt alone");
            store.appendTurn(key, new TurnMessage(Role.SYSTEM, "Be verbose.", 3));
            assertEquals(Optional.of("Be verbose."), store.systemPrompt(key));
            assertEquals(5, store.conversation(key).orElseThrow().trainedToSeq(), "the system prompt left the cursor");
        }
    }
}
