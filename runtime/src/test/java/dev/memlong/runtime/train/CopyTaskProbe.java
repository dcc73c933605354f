package dev.memlong.runtime.train;

import ai.djl.ndarray.NDManager;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.testing.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CopyTaskProbe {
    @Test
    void probe() {
        int steps = Integer.getInteger("probe.steps", 300);
        double lr = Double.parseDouble(System.getProperty("probe.lr", "3e-3"));
        try (NDManager root = Engines.pytorch().newBaseManager()) {
            TrainingSettings s = new TrainingSettings(TrainingMode.FULL_ALL, null, TrainingFixtures.MEMORY, false,
                    new LrSchedule(lr, 20, steps, LrSchedule.Decay.COSINE, 0.1), 0.0, 0.9, 0.95, 1e-8, 1.0, 1, 16, 2 * Integer.getInteger("probe.half", 16), 1, 7);
            Random rnd = new Random(1);
            List<int[]> docs = new ArrayList<>();
            int half = Integer.getInteger("probe.half", 16);
            for (int d = 0; d < 4000; d++) {
                int[] doc = new int[2 * half];
                int noise = rnd.nextInt(half / 2);
                int k = half - 1 - noise;
                int p = 0;
                doc[p++] = 1;
                for (int i = 0; i < noise; i++) doc[p++] = 70 + rnd.nextInt(50);
                int start = p;
                for (int i = 0; i < k; i++) doc[p++] = 10 + rnd.nextInt(50);
                doc[p++] = 2;
                for (int i = 0; i < k; i++) doc[p++] = doc[start + i];
                docs.add(java.util.Arrays.copyOf(doc, p));
            }
            try (ModelParameters params = ModelParameters.initialize(ModelConfig.load(Fixtures.hfTinyLlama()), 7, root)) {
                params.prepare(s.mode(), 1, null, 7);
                try (Trainer trainer = new Trainer(params, s, docs, null, null)) {
                    for (int i = 0; i < steps; i++) {
                        Trainer.StepResult r = trainer.trainStep();
                        if (i % 20 == 0 || i == steps - 1) System.out.println("step " + i + " loss " + r.loss() + " gn " + r.gradNorm());
                    }
                }
            }
        }
    }
}
