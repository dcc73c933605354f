package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.testing.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resuming from a checkpoint continues the run: without retrieval, exactly as if it had not stopped. */
class TrainingStateTest {

    @TempDir
    Path tmp;

    private static TrainingSettings settings() {
        return new TrainingSettings(TrainingMode.FULL_UPPER, null, TrainingFixtures.MEMORY, false,
                new LrSchedule(1e-3, 1, 6, LrSchedule.Decay.COSINE, 0.1), 1e-2, 0.9, 0.999, 1e-8, 1.0, 1, 2, 16, 1, 5);
    }

    @Test
    void resumeGivesTheSameParametersAsAnUninterruptedRun() {
        List<int[]> docs = TrainingFixtures.documents(3, 60, 2);
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters straight = ModelParameters.load(Fixtures.hfTinyLlama(), root);
             ModelParameters first = ModelParameters.load(Fixtures.hfTinyLlama(), root);
             ModelParameters resumed = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            for (ModelParameters p : List.of(straight, first, resumed)) {
                p.prepare(settings().mode(), 1, null, 5);
            }
            try (Trainer t = new Trainer(straight, settings(), docs, null, null)) {
                for (int i = 0; i < 6; i++) {
                    t.trainStep();
                }
            }
            try (Trainer t = new Trainer(first, settings(), docs, null, null)) {
                for (int i = 0; i < 3; i++) {
                    t.trainStep();
                }
                TrainingState.save(t, tmp, List.of(1.0, 2.0, 3.0));
            }
            try (Trainer t = new Trainer(resumed, settings(), docs, null, null)) {
                assertEquals(List.of(1.0, 2.0, 3.0), TrainingState.restore(t, tmp));
                assertEquals(3, t.step());
                for (int i = 0; i < 3; i++) {
                    t.trainStep();
                }
            }
            for (String name : straight.trainableNames()) {
                assertArrayEquals(straight.values(name), resumed.values(name), 0f, name);
            }
        }
    }
}
