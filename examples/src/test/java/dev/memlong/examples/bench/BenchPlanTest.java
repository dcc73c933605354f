package dev.memlong.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** bench decode's plan: both sides get the same time-based warm-up, passed whole to the Jlama child. */
class BenchPlanTest {

    @Test
    void theJlamaChildGetsTheWholePlanWarmUpIncluded() {
        BenchPlan p = new BenchPlan(512, 1, 3, 32, 16, 256, 42, 7.5);
        assertEquals(p, BenchPlan.fromArgs(p.toArgs(), 0));
        String[] withPrefix = new String[p.toArgs().length + 2];
        System.arraycopy(p.toArgs(), 0, withPrefix, 2, p.toArgs().length);
        assertEquals(p, BenchPlan.fromArgs(withPrefix, 2));
    }

    @Test
    void warmUpRunsForItsSeconds() {
        assertTrue(BenchPlan.standard().warmupSeconds() > 0);
        BenchPlan none = new BenchPlan(512, 1, 3, 32, 16, 256, 42, 0);
        assertFalse(none.warmingUp(System.nanoTime()));
        BenchPlan some = new BenchPlan(512, 1, 3, 32, 16, 256, 42, 60);
        assertTrue(some.warmingUp(System.nanoTime()));
        assertFalse(some.warmingUp(System.nanoTime() - 61_000_000_000L));
        assertThrows(IllegalArgumentException.class, () -> new BenchPlan(512, 1, 3, 32, 16, 256, 42, -1));
    }
}
