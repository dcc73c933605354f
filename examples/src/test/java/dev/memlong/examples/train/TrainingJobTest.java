package dev.memlong.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.train.LrSchedule;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.TrainingMode;
import dev.memlong.runtime.train.TrainingSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run asked to stop (as a shutdown asks it) saves a checkpoint between two steps, writes no model, and resumes. */
class TrainingJobTest {

    @TempDir
    Path tmp;

    @Test
    void aStoppedRunSavesItsCheckpointAndResumes() throws Exception {
        Path model = Paths.get(System.getProperty("memlong.fixtures", "../fixtures")).resolve("hf-tiny-llama");
        MemorySettings memory = new MemorySettings(1, List.of(1, 3), 8, 2, 16, 100_000, EvictionPolicy.FIFO, KvDType.FP32);
        TrainingSettings s = new TrainingSettings(TrainingMode.FULL_ALL, null, memory, false,
                new LrSchedule(1e-3, 1, 5, LrSchedule.Decay.COSINE, 0.1), 0.0, 0.9, 0.98, 1e-8, 1.0, 1, 2, 16, 1, 3);
        List<int[]> docs = new ArrayList<>();
        Random rnd = new Random(1);
        for (int d = 0; d < 8; d++) {
            docs.add(rnd.ints(40, 7, 300).toArray());
        }
        Path out = tmp.resolve("out");
        PrintStream log = new PrintStream(new ByteArrayOutputStream());
        AtomicInteger asked = new AtomicInteger();
        TrainingJob.Spec spec = new TrainingJob.Spec(root -> ModelParameters.load(model, root), model, "fixture", s,
                docs, 5, out, false, "F32", 0, null, "test");
        TrainingJob.StoppedException stopped = assertThrows(TrainingJob.StoppedException.class,
                () -> TrainingJob.run(spec, null, null, log, () -> asked.incrementAndGet() > 2));
        assertTrue(stopped.getMessage().contains("step 2 of 5"), stopped.getMessage());
        assertTrue(Files.exists(out.resolve("checkpoint")), "checkpoint saved");
        assertFalse(Files.exists(out.resolve("model.safetensors")), "a stopped run writes no model");

        TrainingJob.Spec resumed = new TrainingJob.Spec(root -> ModelParameters.load(model, root), model, "fixture", s,
                docs, 5, out, false, "F32", 0, out.resolve("checkpoint"), "test");
        TrainingJob.Result r = TrainingJob.run(resumed, null, null, log, () -> false);
        assertEquals(5, r.steps(), "2 restored + 3 trained");
        assertTrue(Files.exists(out.resolve("model.safetensors")));
    }
}
