package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.trainer.RoundObserver;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.ModelVersion;
import dev.memlong.storage.TurnCommit;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Versions are listed, rolled back to (and forward), and the serving one survives a restart. */
class TrainerVersionsTest {

    /** Greedy and long enough that different weights give different text. */
    private static final GenerationParams GREEDY = GenerationParams.greedy(12).withIgnoreEos(true);
    private static final String PROMPT = "The garden is green. What is green?";

    @TempDir
    Path data;

    /** What a fresh conversation answers to {@link #PROMPT}, and the versions that produced it. */
    private static Reply ask(MemLongRuntime rt, String id) {
        return rt.conversation("probe", id).send(PROMPT, GREEDY).join();
    }

    @Test
    void aRollbackCancelsTheRoundThatIsTraining() throws Exception {
        AtomicReference<MemLongRuntime> runtime = new AtomicReference<>();
        CompletableFuture<Long> rollback = new CompletableFuture<>();
        CountDownLatch cancelRequested = new CountDownLatch(1);
        RoundObserver observer = new RoundObserver() {
            @Override
            public void beforeStep(int attempt, int step, List<ConversationKey> training) {
                if (step == 1 && !rollback.isDone()) {
                    runtime.get().rollback(0).whenComplete((v, e) -> {
                        if (e != null) {
                            rollback.completeExceptionally(e);
                        } else {
                            rollback.complete(v);
                        }
                    });
                    try { // this step trains only once the trainer actor has asked the round to stop
                        assertTrue(cancelRequested.await(30, TimeUnit.SECONDS), "the rollback reached the trainer");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void cancelRequested() {
                cancelRequested.countDown();
            }
        };
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer.tolerance = 1.0", observer,
                r -> { })) {
            runtime.set(rt);
            TrainerFixtures.seedFour(rt.store());
            RoundReport report = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.CANCELLED, report.outcome(), report.toString());
            assertEquals(0L, rollback.get(60, TimeUnit.SECONDS));
            assertEquals(0, rt.servingVersion());
            assertTrue(rt.modelVersions().isEmpty(), "the cancelled round published nothing");
            RoundReport next = rt.train().toCompletableFuture().join(); // its dialogue is still there
            assertEquals(RoundReport.Outcome.PUBLISHED, next.outcome(), next.message());
        }
    }

    @Test
    void aVersionNoDeviceCanLoadIsNotSwappedInAndTheServingVersionStays() throws Exception {
        try (MemLongRuntime rt = TrainerFixtures.start(data, 2, "memlong.actors.trainer.tolerance = 1.0")) {
            TrainerFixtures.seedFour(rt.store());
            assertEquals(RoundReport.Outcome.PUBLISHED, rt.train().toCompletableFuture().join().outcome());
            assertEquals(0L, rt.rollback(0).toCompletableFuture().join());
            Files.write(data.resolve("models/v1/upper.safetensors"), new byte[] {1, 2, 3});

            CompletionException failed = assertThrows(CompletionException.class,
                    () -> rt.rollback(1).toCompletableFuture().join());
            MemLongException e = assertInstanceOf(MemLongException.class, failed.getCause());
            assertEquals(MemLongException.Kind.DEVICE_FAILED, e.kind());
            assertTrue(e.getMessage().contains("version 0 serves again"), e.getMessage());
            assertEquals(0, rt.servingVersion());
            assertEquals(0, rt.store().servingModelVersion(TrainerFixtures.MODEL_ID), "the store says so too");
            Reply r = ask(rt, "still-serving");
            assertEquals(List.of(0L), r.modelVersions());
        }
    }

    @Test
    void versionsAreListedRolledBackToAndTheServingOneSurvivesARestart() throws Exception {
        String base;
        String v2Text;
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer.tolerance = 1.0")) {
            List<ConversationKey> seeded = TrainerFixtures.seedFour(rt.store());
            base = ask(rt, "base").text();
            assertEquals(RoundReport.Outcome.PUBLISHED, rt.train().toCompletableFuture().join().outcome());
            for (ConversationKey key : seeded) { // new dialogue for a second round
                rt.store().commitTurn(key, TurnCommit.of(TestRuntimes.message("More about it:", 14, 3), 20,
                        TestRuntimes.message("Indeed:", 14, 4), 20, List.of()));
            }
            RoundReport second = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.PUBLISHED, second.outcome(), second.message());
            assertEquals(2, second.version());
            assertEquals(1, second.parentVersion());

            List<ModelVersion> versions = rt.modelVersions();
            assertEquals(List.of(1L, 2L), versions.stream().map(ModelVersion::version).toList());
            assertEquals(List.of(0L, 1L), versions.stream().map(ModelVersion::parentVersion).toList());
            assertEquals(6, versions.get(1).dataRange().get(0).fromSeq(), "round 2 read only what came after round 1");

            Reply onV2 = ask(rt, "v2");
            assertEquals(List.of(2L), onV2.modelVersions());
            v2Text = onV2.text();
            assertNotEquals(base, v2Text, "training changed what the model says");

            assertEquals(1L, rt.rollback(1).toCompletableFuture().join());
            assertEquals(1, rt.servingVersion());
            assertEquals(List.of(1L), ask(rt, "v1").modelVersions());
            assertEquals(0L, rt.rollback(0).toCompletableFuture().join());
            Reply onBase = ask(rt, "base-again");
            assertEquals(List.of(0L), onBase.modelVersions());
            assertEquals(base, onBase.text(), "version 0 is the base model exactly");

            CompletionException unknown = assertThrows(CompletionException.class,
                    () -> rt.rollback(7).toCompletableFuture().join());
            MemLongException e = assertInstanceOf(MemLongException.class, unknown.getCause());
            assertEquals(MemLongException.Kind.INVALID, e.kind());
            assertEquals(0, rt.servingVersion(), "a refused rollback changes nothing");

            assertEquals(2L, rt.rollback(2).toCompletableFuture().join());
        }
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "")) {
            assertEquals(2, rt.servingVersion(), "the serving version survives the restart");
            Reply onV2 = ask(rt, "v2-after-restart");
            assertEquals(List.of(2L), onV2.modelVersions());
            assertEquals(v2Text, onV2.text(), "the same weights came back");
            assertEquals(2, rt.modelVersions().size());
            // a round after a rollback trains from the serving version and gets the next number
            assertEquals(1L, rt.rollback(1).toCompletableFuture().join());
            TrainerFixtures.seed(rt.store(), "t", "new-a", "The lamp is bright.", 3);
            TrainerFixtures.seed(rt.store(), "t", "new-b", "The road is long.", 3);
            RoundReport third = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.PUBLISHED, third.outcome(), third.message());
            assertEquals(3, third.version());
            assertEquals(1, third.parentVersion());
        }
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "")) {
            assertEquals(3, rt.servingVersion());
        }
        // a serving version whose file is gone stops the start with the way out
        Files.delete(data.resolve("models/v3/upper.safetensors"));
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> TrainerFixtures.start(data, 1, "").close());
        assertTrue(missing.getMessage().contains("model version 3 of hf-tiny-llama serves, but its file")
                && missing.getMessage().contains("memlong rollback --version 0"), missing.getMessage());
        // the failed start closed the store; the way out (what memlong rollback does) works
        try (ConversationStore store = ConversationStore.open(StorageSettings.from(ConfigFactory.load(
                TestRuntimes.config(data, 1, 1, 1, ""))))) {
            store.setServingModelVersion(TrainerFixtures.MODEL_ID, 1);
        }
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "")) {
            assertEquals(List.of(1L), ask(rt, "after-the-fix").modelVersions());
        }
    }
}
