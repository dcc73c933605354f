package dev.memlong.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.EvictionPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the trainer needs from the store: every conversation, its cursor, exclusions, versions and the serving one. */
class TrainingDataStoreTest {

    @TempDir
    Path dir;

    private static ConversationKey create(ConversationStore store, String tenant, String id) {
        ConversationKey key = new ConversationKey(tenant, id);
        store.openConversation(key, new ConversationSpec(TestStores.MODEL, TestStores.LAYOUT, 1000,
                EvictionPolicy.FREQUENCY));
        return key;
    }

    @Test
    void allConversationsListsEveryTenant() {
        try (ConversationStore store = TestStores.open(dir)) {
            create(store, "b", "x");
            create(store, "a", "y");
            create(store, "a", "x");
            assertEquals(List.of("a/x", "a/y", "b/x"), store.allConversations().stream()
                    .map(c -> c.key().tenant() + "/" + c.key().conversationId()).toList());
        }
    }

    @Test
    void theTrainingCursorMovesForwardOnlyAndOnlyForTheSameIncarnation() throws Exception {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = create(store, "t", "c");
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            ConversationInfo info = store.conversation(key).orElseThrow();
            assertEquals(0, info.trainedToSeq());
            store.markTrained(List.of(new TrainedRange(key, 0, 2, info.createdAtMs(), false)));
            assertEquals(2, store.conversation(key).orElseThrow().trainedToSeq());
            assertEquals(2, store.conversation(key).orElseThrow().turnCount(), "turn counters untouched");
            store.markTrained(List.of(new TrainedRange(key, 0, 1, info.createdAtMs(), false)));
            assertEquals(2, store.conversation(key).orElseThrow().trainedToSeq(), "never moves back");

            store.forget(key);
            Thread.sleep(2); // another creation time
            create(store, "t", "c");
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            store.markTrained(List.of(new TrainedRange(key, 0, 2, info.createdAtMs(), false)));
            assertEquals(0, store.conversation(key).orElseThrow().trainedToSeq(),
                    "a range read from the forgotten incarnation does not move the new one's cursor");
            store.markTrained(List.of(new TrainedRange(new ConversationKey("t", "gone"), 0, 2, 1, false)));
            assertTrue(store.conversation(new ConversationKey("t", "gone")).isEmpty(), "not created by marking");
        }
    }

    @Test
    void forgettingAndOptingOutNotifyTheExclusionListenersAfterTheChangeIsStored() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey a = create(store, "t", "a");
            ConversationKey b = create(store, "t", "b");
            List<String> seen = new ArrayList<>();
            try (ConversationStore.Registration r = store.addTrainingExclusionListener(key ->
                    seen.add(key.conversationId() + ":" + store.conversation(key).map(c -> "opted-out="
                            + c.trainingOptOut()).orElse("gone")))) {
                store.setTrainingOptOut(a, false);
                store.setTrainingOptOut(a, true);
                store.forget(b);
            }
            store.forget(a);
            assertEquals(List.of("a:opted-out=true", "b:gone"), seen, "after the store changed; not after close");
        }
    }

    @Test
    void publishingMakesAVersionServingAndItSurvivesAReopen() {
        TrainedRange range = new TrainedRange(new ConversationKey("t", "c"), 4, 10, 123, true);
        ModelVersion v1 = new ModelVersion("m", 1, 0, "models/v1", 50, 2, "lora", List.of(range), 3.5, 3.25, 640,
                64, 3);
        try (ConversationStore store = TestStores.open(dir)) {
            assertEquals(0, store.servingModelVersion("m"), "the base model until something is published");
            store.publishModelVersion(v1);
            assertEquals(1, store.servingModelVersion("m"));
            assertEquals(0, store.servingModelVersion("other"));
            StorageException unknown = assertThrows(StorageException.class, () -> store.setServingModelVersion("m", 7));
            assertEquals(StorageException.Kind.NOT_FOUND, unknown.kind());
            assertEquals(1, store.servingModelVersion("m"), "a refused rollback changes nothing");
            store.setServingModelVersion("m", 0);
        }
        try (ConversationStore store = TestStores.open(dir)) {
            assertEquals(0, store.servingModelVersion("m"));
            assertEquals(v1, store.modelVersion("m", 1).orElseThrow(), "every field round-trips");
            assertFalse(store.modelVersion("m", 0).isPresent());
            store.setServingModelVersion("m", 1);
            assertEquals(1, store.servingModelVersion("m"));
        }
    }
}
