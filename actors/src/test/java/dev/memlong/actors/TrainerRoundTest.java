package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rounds on demand: publish, reject, skip, fail, each leaving the runtime serving. */
class TrainerRoundTest {

    @TempDir
    Path data;

    @Test
    void aRoundOnDemandPublishesAVersionThatEveryDeviceServes() {
        try (MemLongRuntime rt = TrainerFixtures.start(data, 2, "")) {
            TrainerFixtures.seedFour(rt.store());
            long t0 = System.nanoTime();
            RoundReport report = rt.train().toCompletableFuture().join();
            System.out.println("round: " + report + " in " + (System.nanoTime() - t0) / 1e6 + " ms");
            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.message());
            assertEquals(1, report.version());
            assertEquals(1, rt.servingVersion());
            assertFalse(report.heldoutConversations().isEmpty());
            assertTrue(report.heldoutLossAfter() <= report.heldoutLossBefore() * 1.05);
        }
    }
}
