package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Automatic rounds: after every-tokens of committed dialogue, and after every (time); none when automatic is off. */
class TrainerTriggerTest {

    private static final GenerationParams GREEDY = GenerationParams.greedy(8).withIgnoreEos(true);

    @TempDir
    Path data;

    private static void await(MemLongRuntime rt, BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + "; " + rt.trainerStats());
            }
            Thread.sleep(20);
        }
    }

    @Test
    void aRoundStartsOnceEnoughDialogueTokensWereCommitted() throws Exception {
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer { automatic = on, "
                + "every-tokens = 400, tolerance = 1.0 }")) {
            Conversation a = rt.conversation("t", "a");
            Conversation b = rt.conversation("t", "b");
            Reply first = a.send("Hello.", GREEDY).join();
            await(rt, () -> rt.trainerStats().tokensSinceLastRound() > 0, "the first turn's tokens counted");
            long counted = rt.trainerStats().tokensSinceLastRound();
            assertTrue(counted < 400, "counted " + counted + " tokens: " + first);
            assertEquals(0, rt.trainerStats().roundsRun() + rt.trainerStats().roundsSkipped(), "not yet");
            for (int i = 0; rt.trainerStats().roundsPublished() == 0 && i < 40; i++) {
                (i % 2 == 0 ? a : b).send(TestRuntimes.message("The river is cold.", 10, i), GREEDY).join();
            }
            await(rt, () -> rt.trainerStats().roundsPublished() == 1, "the round the tokens started");
            assertEquals(1, rt.servingVersion());
            assertTrue(rt.trainerStats().tokensSinceLastRound() < 400, "counting starts over");
        }
    }

    @Test
    void aRoundStartsWhenTheIntervalPassedAndSkipsWhenNothingIsNew() throws Exception {
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer { automatic = on, "
                + "every = 300ms, tolerance = 1.0 }")) {
            TrainerFixtures.seedFour(rt.store());
            await(rt, () -> rt.trainerStats().roundsPublished() >= 1, "the round the interval started");
            // a tick may have come while the store was being seeded: then two rounds shared the dialogue
            await(rt, () -> rt.trainerStats().roundsSkipped() >= 1, "a later round with nothing new");
            long published = rt.trainerStats().roundsPublished();
            assertEquals(published, rt.modelVersions().size());
            assertEquals(published, rt.servingVersion());
        }
    }

    @Test
    void withAutomaticOffNoRoundStartsByItself() throws Exception {
        try (MemLongRuntime rt = TrainerFixtures.start(data, 1, "memlong.actors.trainer { automatic = off, "
                + "every-tokens = 1, every = 100ms }")) {
            TrainerFixtures.seedFour(rt.store());
            rt.conversation("t", "a").send("Hello there.", GREEDY).join();
            Thread.sleep(500);
            TrainerStats stats = rt.trainerStats();
            assertEquals(0, stats.roundsRun() + stats.roundsSkipped(), stats.toString());
            assertTrue(stats.tokensSinceLastRound() > 0);
        }
    }
}
