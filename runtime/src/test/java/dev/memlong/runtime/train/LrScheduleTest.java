package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Values computed by hand from the documented formula, pinned because the shipped demo model was trained with it:
 * warm-up {@code peak·(s+1)/w} (not Hugging Face's {@code peak·s/w}), then decay to {@code minRatio·peak}.
 */
class LrScheduleTest {

    private static final double EPS = 1e-15;

    @Test
    void warmUpStartsAtPeakOverWarmupAndReachesThePeakAtItsLastStep() {
        LrSchedule s = new LrSchedule(1e-3, 4, 10, LrSchedule.Decay.COSINE, 0.1);
        assertEquals(2.5e-4, s.at(0), EPS); // Hugging Face: 0
        assertEquals(5.0e-4, s.at(1), EPS); // HF: 2.5e-4
        assertEquals(7.5e-4, s.at(2), EPS);
        assertEquals(1.0e-3, s.at(3), EPS); // HF: 7.5e-4
        assertEquals(1.0e-3, s.at(4), EPS); // HF: 1e-3 too; from here on the two agree
    }

    @Test
    void cosineDecaysToMinRatioTimesPeakAtTotalSteps() {
        LrSchedule s = new LrSchedule(1e-3, 4, 10, LrSchedule.Decay.COSINE, 0.1);
        // progress (s - 4) / 6: at s = 7 it is 1/2, cos(pi/2) = 0, so 1e-3 * (0.1 + 0.9 * 0.5)
        assertEquals(5.5e-4, s.at(7), EPS);
        // s = 6: progress 1/3, (1 + cos(pi/3)) / 2 = 0.75: 1e-3 * (0.1 + 0.9 * 0.75)
        assertEquals(7.75e-4, s.at(6), 1e-15);
        assertEquals(1e-4, s.at(10), EPS);
        assertEquals(1e-4, s.at(25), EPS);
    }

    @Test
    void linearAndConstantDecay() {
        LrSchedule linear = new LrSchedule(2e-3, 2, 6, LrSchedule.Decay.LINEAR, 0.0);
        assertEquals(1e-3, linear.at(0), EPS);
        assertEquals(2e-3, linear.at(2), EPS);
        assertEquals(1e-3, linear.at(4), EPS); // progress 1/2
        assertEquals(0.0, linear.at(6), EPS);
        LrSchedule constant = new LrSchedule(2e-3, 2, 6, LrSchedule.Decay.CONSTANT, 0.5);
        assertEquals(1e-3, constant.at(0), EPS);
        assertEquals(2e-3, constant.at(5), EPS);
        assertEquals(2e-3, constant.at(50), EPS);
    }

    @Test
    void withoutWarmUpTheFirstStepRunsAtThePeak() {
        assertEquals(3e-4, new LrSchedule(3e-4, 0, 100, LrSchedule.Decay.COSINE, 0.1).at(0), EPS);
    }
}
