package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.actors.trainer.RoundObserver;
import dev.memlong.runtime.checkpoint.SafetensorsCheckpoint;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.TrainedRange;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opted-out conversations are never trained on; a conversation forgotten during a round leaves no trace in it. */
class TrainerExclusionTest {

    @TempDir
    Path data;

    @TempDir
    Path reference;

    /** What the trainer was about to train on, step by step. */
    private record Step(int attempt, int step, List<ConversationKey> training) {}

    private static List<ConversationKey> seedFive(MemLongRuntime rt) {
        List<ConversationKey> keys = new ArrayList<>(TrainerFixtures.seedFour(rt.store()));
        keys.add(TrainerFixtures.seed(rt.store(), "t", "secret", "My password is swordfish.", 3));
        return keys;
    }

    private static List<ConversationKey> used(RoundReport report) {
        List<ConversationKey> all = new ArrayList<>(report.trainConversations());
        all.addAll(report.heldoutConversations());
        return all;
    }

    @Test
    void anOptedOutConversationIsNeverTrainedOnUntilItOptsBackIn() {
        List<Step> steps = new CopyOnWriteArrayList<>();
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer.tolerance = 1.0",
                (attempt, step, training) -> steps.add(new Step(attempt, step, training)), r -> { })) {
            seedFive(rt);
            ConversationKey secret = new ConversationKey("t", "secret");
            assertTrue(rt.conversation("t", "secret").optOutOfTraining(true).toCompletableFuture().join());
            assertTrue(rt.store().conversation(secret).orElseThrow().trainingOptOut(), "stored");

            RoundReport report = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.message());
            assertEquals(4, used(report).size());
            assertFalse(used(report).contains(secret));
            assertFalse(steps.isEmpty());
            steps.forEach(s -> assertFalse(s.training().contains(secret), "step " + s));
            assertTrue(rt.modelVersions().get(0).dataRange().stream().noneMatch(r -> r.key().equals(secret)));
            assertEquals(0, rt.store().conversation(secret).orElseThrow().trainedToSeq(), "its dialogue was not read");

            assertFalse(rt.conversation("t", "secret").optOutOfTraining(false).toCompletableFuture().join());
            TrainerFixtures.seed(rt.store(), "t", "newcomer", "The bell rings.", 3);
            RoundReport next = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.PUBLISHED, next.outcome(), next.message());
            assertTrue(used(next).contains(secret), "opted back in: " + used(next));
        }
    }

    @Test
    void optingOutDuringARoundStartsItOverWithoutTheConversation() {
        AtomicReference<MemLongRuntime> runtime = new AtomicReference<>();
        AtomicReference<ConversationKey> optedOut = new AtomicReference<>();
        List<Step> steps = new CopyOnWriteArrayList<>();
        RoundObserver observer = (attempt, step, training) -> {
            steps.add(new Step(attempt, step, training));
            if (attempt == 0 && step == 1) {
                ConversationKey key = training.get(0);
                optedOut.set(key);
                runtime.get().conversation(key.tenant(), key.conversationId()).optOutOfTraining(true)
                        .toCompletableFuture().join();
            }
        };
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer.tolerance = 1.0", observer,
                r -> { })) {
            runtime.set(rt);
            seedFive(rt);
            RoundReport report = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.message());
            assertEquals(1, report.restarts());
            assertFalse(used(report).contains(optedOut.get()));
            steps.stream().filter(s -> s.attempt() > 0).forEach(s ->
                    assertFalse(s.training().contains(optedOut.get()), "after the opt-out: " + s));
            assertTrue(rt.modelVersions().get(0).dataRange().stream().noneMatch(r -> r.key().equals(optedOut.get())));
        }
    }

    @Test
    void aConversationForgottenDuringARoundLeavesNoTraceInTheVersionItPublishes() throws Exception {
        AtomicReference<MemLongRuntime> runtime = new AtomicReference<>();
        AtomicReference<ConversationKey> forgotten = new AtomicReference<>();
        List<Step> steps = new CopyOnWriteArrayList<>();
        RoundObserver observer = (attempt, step, training) -> {
            steps.add(new Step(attempt, step, training));
            if (attempt == 0 && step == 1) { // one step trained on it already
                ConversationKey key = training.get(0);
                forgotten.set(key);
                assertTrue(runtime.get().conversation(key.tenant(), key.conversationId()).forget()
                        .toCompletableFuture().join());
            }
        };
        List<ConversationKey> seeded;
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer.tolerance = 1.0", observer,
                r -> { })) {
            runtime.set(rt);
            seeded = seedFive(rt);
            RoundReport report = rt.train().toCompletableFuture().join();

            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.message());
            ConversationKey key = forgotten.get();
            assertTrue(steps.stream().anyMatch(s -> s.attempt() == 0 && s.training().contains(key)),
                    "the first attempt did train on it");
            assertEquals(1, report.restarts());
            assertFalse(used(report).contains(key));
            steps.stream().filter(s -> s.attempt() > 0).forEach(s ->
                    assertFalse(s.training().contains(key), "after the forget: " + s));
            List<TrainedRange> range = rt.modelVersions().get(0).dataRange();
            assertEquals(4, range.size());
            assertTrue(range.stream().noneMatch(r -> r.key().equals(key)));
            // forgotten in the store (its actor opens it again, empty, as after any forget)
            assertEquals(0L, rt.store().conversation(key).map(c -> c.turnCount()).orElse(0L));
        }
        // the reference: the same dialogue without that conversation, trained by a fresh node
        try (MemLongRuntime rt = TrainerFixtures.start(reference, 1, "memlong.actors.trainer.tolerance = 1.0")) {
            for (ConversationKey key : seeded) {
                if (!key.equals(forgotten.get())) {
                    reseed(rt, key);
                }
            }
            RoundReport report = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.message());
            assertEquals(0, report.restarts());
        }
        assertSameTensors(data.resolve("models/v1/upper.safetensors"),
                reference.resolve("models/v1/upper.safetensors"));
    }

    /**
     * A forget written between the round's last check and its publication, whose notification reaches the round only
     * after it published: the store tells its listeners after the change is stored, so the round's listener can lag.
     * Only the round's re-read of the store after publishing catches this one; it withdraws the version.
     */
    @Test
    void aForgetLandingBetweenTheLastCheckAndThePublicationWithdrawsTheVersionAndStartsOver() {
        AtomicReference<MemLongRuntime> runtime = new AtomicReference<>();
        AtomicReference<ConversationKey> forgotten = new AtomicReference<>();
        AtomicReference<CompletableFuture<Boolean>> forgetting = new AtomicReference<>();
        CountDownLatch forgetStored = new CountDownLatch(1);
        CountDownLatch roundMayHearOfIt = new CountDownLatch(1);
        List<Step> steps = new CopyOnWriteArrayList<>();
        List<Long> publishing = new CopyOnWriteArrayList<>();
        RoundObserver observer = new RoundObserver() {
            @Override
            public void beforeStep(int attempt, int step, List<ConversationKey> training) {
                steps.add(new Step(attempt, step, training));
                if (attempt > 0) {
                    roundMayHearOfIt.countDown(); // the first attempt is over, checks after its publication included
                }
            }

            @Override
            public void beforePublish(int attempt, long version) {
                publishing.add(version);
                if (attempt == 0) { // every check of the attempt passed; the version is about to be published
                    ConversationKey key = steps.get(0).training().get(0);
                    forgotten.set(key);
                    forgetting.set(runtime.get().conversation(key.tenant(), key.conversationId()).forget()
                            .toCompletableFuture());
                    assertTrue(TestRuntimes.await(forgetStored), "the forget was stored");
                }
            }
        };
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer.tolerance = 1.0", observer,
                r -> { })) {
            runtime.set(rt);
            seedFive(rt);
            RoundReport report;
            // Registered before the round's own listener, so the store tells this one first: it holds the forget's
            // notification back (on the forgetting thread, the change already stored) until the round is past it.
            try (ConversationStore.Registration late = rt.store().addTrainingExclusionListener(key -> {
                if (key.equals(forgotten.get())) {
                    forgetStored.countDown();
                    TestRuntimes.await(roundMayHearOfIt);
                }
            })) {
                report = rt.train().toCompletableFuture().join();
            } finally {
                roundMayHearOfIt.countDown(); // a round that missed the forget ends without a second attempt
            }

            assertTrue(forgetting.get().join());
            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.message());
            ConversationKey key = forgotten.get();
            assertEquals(1, report.restarts(), "the round started over: " + report);
            assertEquals(2, publishing.size(), "published twice: " + publishing);
            assertFalse(used(report).contains(key));
            steps.stream().filter(s -> s.attempt() > 0).forEach(s ->
                    assertFalse(s.training().contains(key), "after the forget: " + s));
            // the version of the first attempt was withdrawn: only the second one is listed, and it serves
            List<dev.memlong.storage.ModelVersion> versions = rt.modelVersions();
            assertEquals(1, versions.size(), versions.toString());
            assertEquals(report.version(), versions.get(0).version());
            assertTrue(versions.get(0).dataRange().stream().noneMatch(r -> r.key().equals(key)));
            assertEquals(report.version(), rt.servingVersion());
            assertEquals(report.version(), rt.store().servingModelVersion(TrainerFixtures.MODEL_ID));
        }
    }

    /** Seeds {@code key} as {@link TrainerFixtures#seedFour} and {@link #seedFive} did. */
    private static void reseed(MemLongRuntime rt, ConversationKey key) {
        String topic = switch (key.conversationId()) {
            case "garden" -> "The garden is green.";
            case "river" -> "The river is cold.";
            case "stone" -> "The stone is old.";
            case "market" -> "The market is busy.";
            case "secret" -> "My password is swordfish.";
            default -> throw new IllegalArgumentException(key.toString());
        };
        TrainerFixtures.seed(rt.store(), key.tenant(), key.conversationId(), topic, 3);
    }

    /** The published weights are bit-identical: the forgotten conversation influenced nothing. */
    private static void assertSameTensors(Path a, Path b) {
        try (WeightSource x = SafetensorsCheckpoint.openFile(a); WeightSource y = SafetensorsCheckpoint.openFile(b)) {
            assertEquals(x.tensors().keySet(), y.tensors().keySet());
            for (String name : x.tensors().keySet()) {
                assertArrayEquals(bytes(x.readFloat32(name)), bytes(y.readFloat32(name)), name);
            }
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
