package dev.memlong.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
    void theTrainingCursorMovesForwardOnlyAndOnlyForTheSameIncarnation() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = create(store, "t", "c");
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            ConversationInfo info = store.conversation(key).orElseThrow();
            assertEquals(0, info.trainedToSeq());
            store.markTrained(List.of(TrainedRange.of(info, 0, 2, false)));
            assertEquals(2, store.conversation(key).orElseThrow().trainedToSeq());
            assertEquals(2, store.conversation(key).orElseThrow().turnCount(), "turn counters untouched");
            store.markTrained(List.of(TrainedRange.of(info, 0, 1, false)));
            assertEquals(2, store.conversation(key).orElseThrow().trainedToSeq(), "never moves back");

            store.forget(key);
            create(store, "t", "c"); // at once: incarnations are not told apart by the clock
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            store.markTrained(List.of(TrainedRange.of(info, 0, 2, false)));
            assertEquals(0, store.conversation(key).orElseThrow().trainedToSeq(),
                    "a range read from the forgotten incarnation does not move the new one's cursor");
            store.markTrained(List.of(new TrainedRange(new ConversationKey("t", "gone"), 0, 2, 1, false)));
            assertTrue(store.conversation(new ConversationKey("t", "gone")).isEmpty(), "not created by marking");
        }
    }

    @Test
    void aConversationReCreatedInTheSameMillisecondOrAfterTheClockSteppedBackIsAnotherIncarnation() {
        long[] clock = {1_000_000};
        try (ConversationStore store = ConversationStore.open(TestStores.settings(dir), () -> clock[0])) {
            ConversationKey key = create(store, "t", "c");
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            ConversationInfo old = store.conversation(key).orElseThrow();

            store.forget(key);
            create(store, "t", "c"); // the same millisecond
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            ConversationInfo now = store.conversation(key).orElseThrow();
            assertEquals(old.createdAtMs(), now.createdAtMs());
            assertNotEquals(old.incarnation(), now.incarnation());
            store.markTrained(List.of(TrainedRange.of(old, 0, 2, false)));
            assertEquals(0, store.conversation(key).orElseThrow().trainedToSeq(), "the old range is not this one's");

            store.forget(key);
            clock[0] -= 60_000; // NTP stepped the clock back a minute...
            create(store, "t", "c");
            clock[0] += 60_000; // ...and the old creation time comes round again
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            store.markTrained(List.of(TrainedRange.of(old, 0, 2, false), TrainedRange.of(now, 0, 2, false)));
            assertEquals(0, store.conversation(key).orElseThrow().trainedToSeq());

            ConversationInfo current = store.conversation(key).orElseThrow();
            store.markTrained(List.of(TrainedRange.of(current, 0, 2, false)));
            assertEquals(2, store.conversation(key).orElseThrow().trainedToSeq(), "its own range moves it");
        }
    }

    @Test
    void aRecordWrittenBeforeIncarnationsIsStillToldApartByItsCreationTime() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = create(store, "t", "c");
            store.commitTurn(key, TurnCommit.of("q", 1, "a", 1, List.of()));
            // as an older build wrote it: no incarnation field
            try (StoreBatch batch = new StoreBatch(store.rocks())) {
                ConversationMeta.put(batch, key, ConversationMeta.require(store.rocks(), key).toBuilder()
                        .clearIncarnation().build());
                store.rocks().write(batch, false);
            }
            ConversationInfo info = store.conversation(key).orElseThrow();
            assertEquals(0, info.incarnation());
            store.markTrained(List.of(new TrainedRange(key, 0, 1, info.createdAtMs() + 1, false)));
            assertEquals(0, store.conversation(key).orElseThrow().trainedToSeq(), "another creation time");
            store.markTrained(List.of(TrainedRange.of(info, 0, 2, false)));
            assertEquals(2, store.conversation(key).orElseThrow().trainedToSeq());
        }
    }

    @Test
    void anImportedConversationIsANewIncarnation() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationKey key = create(store, "t", "c");
            ConversationInfo original = store.conversation(key).orElseThrow();
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            store.exportConversation(key, out);
            store.forget(key);
            ConversationInfo imported = store.importConversation(new java.io.ByteArrayInputStream(out.toByteArray()),
                    (ConversationKey) null);
            assertNotEquals(0, imported.incarnation());
            assertNotEquals(original.incarnation(), imported.incarnation());
            assertEquals(imported.incarnation(), store.conversation(key).orElseThrow().incarnation());
        }
    }

    @Test
    void trainedRangesKeepTheirIncarnationInAModelVersion() {
        try (ConversationStore store = TestStores.open(dir)) {
            ConversationInfo info = store.conversation(create(store, "t", "c")).orElseThrow();
            TrainedRange range = TrainedRange.of(info, 0, 2, true);
            store.putModelVersion(new ModelVersion("m", 1, 0, "v1", 1, 0, "lora", List.of(range), 0, 0, 0, 0, 0));
            assertEquals(List.of(range), store.modelVersion("m", 1).orElseThrow().dataRange());
            assertNotEquals(0, range.conversationIncarnation());
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

    @Test
    void aWithdrawnVersionIsNeitherListedNorServedAndTheParentServesAgain() {
        TrainedRange range = new TrainedRange(new ConversationKey("t", "c"), 0, 2, 123, false);
        ModelVersion v1 = new ModelVersion("m", 1, 0, "v1/upper.safetensors", 50, 2, "lora", List.of(range), 3.5,
                3.25, 640, 64, 3);
        ModelVersion v2 = new ModelVersion("m", 2, 1, "v2/upper.safetensors", 60, 2, "lora", List.of(range), 3.25,
                3.0, 640, 64, 3);
        try (ConversationStore store = TestStores.open(dir)) {
            store.publishModelVersion(v1);
            store.publishModelVersion(v2);
            StorageException unknown = assertThrows(StorageException.class,
                    () -> store.withdrawModelVersion("m", 2, 7));
            assertEquals(StorageException.Kind.NOT_FOUND, unknown.kind(), "the version to serve instead must exist");
            assertThrows(StorageException.class, () -> store.withdrawModelVersion("m", 9, 1));
            assertEquals(2, store.servingModelVersion("m"), "a refused withdrawal changes nothing");

            store.withdrawModelVersion("m", 2, 1);
            assertEquals(List.of(v1), store.modelVersions("m"));
            assertEquals(1, store.servingModelVersion("m"), "the version it replaced serves again");
            // a version that does not serve is just removed; the serving pointer stays where it is
            store.publishModelVersion(v2);
            store.setServingModelVersion("m", 1);
            store.withdrawModelVersion("m", 2, 0);
            assertEquals(1, store.servingModelVersion("m"));
            store.withdrawModelVersion("m", 1, 0);
            assertEquals(0, store.servingModelVersion("m"));
            assertTrue(store.modelVersions("m").isEmpty());
        }
        try (ConversationStore store = TestStores.open(dir)) {
            assertTrue(store.modelVersions("m").isEmpty(), "withdrawals are durable");
            assertEquals(0, store.servingModelVersion("m"));
        }
    }
}
