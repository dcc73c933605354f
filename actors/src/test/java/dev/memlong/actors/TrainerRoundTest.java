package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.actors.scheduler.DeviceReplica;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ModelVersion;
import dev.memlong.storage.TrainedRange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rounds on demand: published, rejected by the held-out gate, skipped, failed; the runtime serves throughout. */
class TrainerRoundTest {

    private static final GenerationParams GREEDY = GenerationParams.greedy(6);

    @TempDir
    Path data;

    @Test
    void aPublishedVersionIsStoredWithItsMetadataAndServedByEveryDevice() throws Exception {
        List<DeviceReplica> replicas = new CopyOnWriteArrayList<>();
        try (MemLongRuntime rt = TrainerFixtures.start(data, 2, "", (a, s, t) -> { }, replicas::add)) {
            Set<ConversationKey> used = new java.util.HashSet<>(TrainerFixtures.seedFour(rt.store()));
            assertEquals(0, rt.servingVersion());
            assertEquals(List.of(0L), rt.conversation("x", "before").send("Hello there.", GREEDY).join()
                    .modelVersions());
            used.add(new ConversationKey("x", "before")); // a turn through the runtime is dialogue to train on too

            RoundReport report = rt.train().toCompletableFuture().join();

            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.message());
            assertEquals(1, report.version());
            assertEquals(0, report.parentVersion());
            assertEquals(4, report.steps());
            assertTrue(report.heldoutLossAfter() <= report.heldoutLossBefore() * 1.05, report.toString());
            assertEquals(used, union(report.trainConversations(), report.heldoutConversations()));
            assertFalse(report.heldoutConversations().isEmpty());
            assertFalse(report.trainConversations().isEmpty());
            // every device serves it, and turns run on it
            assertEquals(1, rt.servingVersion());
            assertEquals(2, replicas.size());
            for (DeviceReplica r : replicas) {
                assertEquals(1, r.version());
            }
            assertEquals(List.of(1L), rt.conversation("x", "after").send("Hello there.", GREEDY).join()
                    .modelVersions());
            // stored: record, files, cursor
            List<ModelVersion> versions = rt.modelVersions();
            assertEquals(1, versions.size());
            ModelVersion v = versions.get(0);
            assertEquals(TrainerFixtures.MODEL_ID, v.modelId());
            assertEquals(2, v.memoryLayer());
            assertEquals("lora", v.trainingMode());
            assertEquals(report.heldoutLossBefore(), v.heldoutLossBefore());
            assertEquals(report.heldoutLossAfter(), v.heldoutLossAfter());
            assertEquals(report.trainTokens(), v.tokensTrained());
            assertEquals(used, v.dataRange().stream().map(TrainedRange::key).collect(Collectors.toSet()));
            for (TrainedRange range : v.dataRange()) {
                long messages = range.key().tenant().equals("x") ? 2 : 6; // seeded: 3 exchanges
                assertEquals(0, range.fromSeq());
                assertEquals(messages, range.toSeq());
                assertEquals(report.heldoutConversations().contains(range.key()), range.heldout());
                assertEquals(messages, rt.store().conversation(range.key()).orElseThrow().trainedToSeq());
            }
            assertTrue(Files.isRegularFile(data.resolve("models/v1/upper.safetensors")));
            String json = Files.readString(data.resolve("models/v1/version.json"));
            assertTrue(json.contains("\"base_model\" : \"hf-tiny-llama\"") && json.contains("\"memory_layer\" : 2"),
                    json);
            TrainerStats stats = rt.trainerStats();
            assertEquals(new TrainerStats(1, 1, 0, 0, 0, report.heldoutLossBefore(), report.heldoutLossAfter(), 1,
                    false, stats.tokensSinceLastRound()), stats);

            // nothing new since: the next round is skipped and changes nothing
            RoundReport again = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.SKIPPED, again.outcome());
            assertEquals(1, rt.servingVersion());
            assertEquals(1, rt.trainerStats().roundsSkipped());
        }
    }

    @Test
    void aVersionThatMakesTheHeldoutLossWorseIsRejected() {
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer { learning-rate = 2.0, "
                + "tolerance = 0 }")) {
            TrainerFixtures.seedFour(rt.store());
            RoundReport report = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.REJECTED, report.outcome(), report.toString());
            assertTrue(report.heldoutLossAfter() > report.heldoutLossBefore(), report.toString());
            assertEquals(0, report.version());
            assertEquals(0, rt.servingVersion());
            assertTrue(rt.modelVersions().isEmpty());
            assertFalse(Files.exists(data.resolve("models/v1")));
            TrainerStats stats = rt.trainerStats();
            assertEquals(1, stats.roundsRun());
            assertEquals(1, stats.roundsRejected());
            assertEquals(report.heldoutLossAfter(), stats.lastHeldoutLossAfter());
            assertEquals(List.of(0L), rt.conversation("x", "c").send("Hello there.", GREEDY).join().modelVersions());
            // the rejected round consumed its dialogue: the next one has nothing new
            assertEquals(RoundReport.Outcome.SKIPPED, rt.train().toCompletableFuture().join().outcome());
        }
    }

    @Test
    void aRoundThatThrowsFailsTheServingVersionStaysAndTheNextRoundPublishes() {
        AtomicBoolean thrown = new AtomicBoolean();
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "", (attempt, step, training) -> {
            if (step == 1 && thrown.compareAndSet(false, true)) {
                throw new IllegalStateException("injected failure");
            }
        }, r -> { })) {
            TrainerFixtures.seedFour(rt.store());
            RoundReport failed = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.FAILED, failed.outcome());
            assertTrue(failed.message().contains("injected failure"), failed.message());
            assertEquals(0, rt.servingVersion());
            assertEquals(List.of(0L), rt.conversation("x", "c").send("Hello there.", GREEDY).join().modelVersions());
            // a failed round leaves its dialogue for the next one, which publishes
            RoundReport next = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.PUBLISHED, next.outcome(), next.message());
            assertEquals(1, rt.servingVersion());
            TrainerStats stats = rt.trainerStats();
            assertEquals(2, stats.roundsRun());
            assertEquals(1, stats.roundsFailed());
            assertEquals(1, stats.roundsPublished());
        }
    }

    @Test
    void aNonFiniteLossFailsTheRoundAndNothingIsPublished() {
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer { learning-rate = 1e30, "
                + "clip-norm = 0 }")) {
            TrainerFixtures.seedFour(rt.store());
            RoundReport report = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.FAILED, report.outcome(), report.toString());
            assertTrue(report.message().contains("non-finite"), report.message());
            assertEquals(0, rt.servingVersion());
            assertTrue(rt.modelVersions().isEmpty());
            assertEquals(1, rt.trainerStats().roundsFailed());
            assertEquals(List.of(0L), rt.conversation("x", "c").send("Hello there.", GREEDY).join().modelVersions());
        }
    }

    @Test
    void tooLittleNewDialogueSkipsTheRoundAndKeepsTheDialogueForLater() {
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer.min-tokens = 1000000")) {
            List<ConversationKey> seeded = TrainerFixtures.seedFour(rt.store());
            RoundReport report = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.SKIPPED, report.outcome());
            assertTrue(report.message().contains("min-tokens"), report.message());
            assertEquals(0, rt.store().conversation(seeded.get(0)).orElseThrow().trainedToSeq());
            assertEquals(0, rt.trainerStats().roundsRun());
        }
    }

    private static Set<ConversationKey> union(List<ConversationKey> a, List<ConversationKey> b) {
        Set<ConversationKey> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
