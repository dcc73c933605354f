package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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

    private static TrainingSettings loraSettings(int rank, float alpha) {
        return new TrainingSettings(TrainingMode.LORA_UPPER, new LoraSettings(rank, alpha, 0f), TrainingFixtures.MEMORY,
                false, new LrSchedule(1e-3, 1, 6, LrSchedule.Decay.COSINE, 0.1), 1e-2, 0.9, 0.999, 1e-8, 1.0, 1, 2, 16,
                1, 5);
    }

    /** Saves an untrained LoRA run's state with {@code saved} and restores it into a run with {@code resumed}. */
    private CheckpointException resumeAcross(TrainingSettings saved, TrainingSettings resumed, boolean dropLoraFields)
            throws Exception {
        List<int[]> docs = TrainingFixtures.documents(3, 60, 2);
        Path dir = tmp.resolve("state-" + saved.lora().rank() + "-" + resumed.lora().rank() + "-" + dropLoraFields);
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters first = ModelParameters.load(Fixtures.hfTinyLlama(), root);
             ModelParameters second = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            first.prepare(saved.mode(), 1, saved.lora(), 5);
            second.prepare(resumed.mode(), 1, resumed.lora(), 5);
            try (Trainer t = new Trainer(first, saved, docs, null, null)) {
                TrainingState.save(t, dir, List.of());
            }
            if (dropLoraFields) { // as a checkpoint written before the LoRA settings were recorded
                ObjectMapper json = new ObjectMapper();
                ObjectNode state = (ObjectNode) json.readTree(dir.resolve(TrainingState.JSON_FILE).toFile());
                state.remove("lora");
                Files.writeString(dir.resolve(TrainingState.JSON_FILE), json.writeValueAsString(state));
            }
            try (Trainer t = new Trainer(second, resumed, docs, null, null)) {
                return assertThrows(CheckpointException.class, () -> TrainingState.restore(t, dir));
            }
        }
    }

    @Test
    void resumingWithAnotherLoraRankIsRefused() throws Exception {
        CheckpointException e = resumeAcross(loraSettings(8, 8), loraSettings(4, 8), false);
        assertTrue(e.getMessage().contains("r=8") && e.getMessage().contains("r=4"), e.getMessage());
    }

    @Test
    void resumingWithAnotherLoraAlphaIsRefused() throws Exception {
        CheckpointException e = resumeAcross(loraSettings(4, 8), loraSettings(4, 16), false);
        assertTrue(e.getMessage().contains("alpha=8.0") && e.getMessage().contains("alpha=16.0"), e.getMessage());
    }

    @Test
    void aTensorOfAnotherShapeIsRefusedNamingItAndBothShapes() throws Exception {
        // rank 8 saved, rank 4 resumed: NDArray.set would keep the first half of each lora_A with only a warning
        CheckpointException e = resumeAcross(loraSettings(8, 8), loraSettings(4, 8), true);
        String name = ParameterNames.loraA(2, "q_proj");
        assertTrue(e.getMessage().contains("param/" + name), e.getMessage());
        assertTrue(e.getMessage().contains("[8, ") && e.getMessage().contains("[4, "), e.getMessage());
    }
}
