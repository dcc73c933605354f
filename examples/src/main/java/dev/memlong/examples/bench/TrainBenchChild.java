package dev.memlong.examples.bench;

import ai.djl.ndarray.NDManager;
import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.train.LoraSettings;
import dev.memlong.runtime.train.LrSchedule;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.Trainer;
import dev.memlong.runtime.train.TrainingMode;
import dev.memlong.runtime.train.TrainingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * One training mode of {@code memlong bench train}, in a JVM of its own so its peak resident memory is its own:
 * {@code MODE CHECKPOINT_DIR SEQUENCE STEPS}. Prints {@code step_seconds_median peak_rss_bytes}.
 */
public final class TrainBenchChild {

    private TrainBenchChild() {}

    /** Memory chunk of the benchmark's settings; the sequence is the local window, a whole number of chunk pairs. */
    private static final int CHUNK = 128;

    /**
     * Checks {@code --sequence} and {@code --steps} before any child starts (the parent calls it too): a bad value
     * would otherwise fail deep in the child, once per mode.
     */
    public static void validate(int sequence, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        }
        if (sequence < 2 * CHUNK || sequence % (2 * CHUNK) != 0 || sequence > BenchCheckpoint.MAX_POSITIONS) {
            throw new IllegalArgumentException("--sequence must be a multiple of " + 2 * CHUNK + " (two memory chunks) "
                    + "from " + 2 * CHUNK + " to " + BenchCheckpoint.MAX_POSITIONS + ", got " + sequence);
        }
    }

    public static void main(String[] args) throws Exception {
        TrainingMode mode = TrainingMode.parse(args[0]);
        Path dir = Path.of(args[1]);
        int sequence = Integer.parseInt(args[2]);
        int steps = Integer.parseInt(args[3]);
        validate(sequence, steps);
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters params = ModelParameters.load(dir, root)) {
            int layers = params.config().numLayers();
            int m = MemorySettings.defaultMemoryLayer(layers);
            MemorySettings memory = new MemorySettings(m, MemorySettings.defaultRetrievalLayers(m, layers), CHUNK, 8,
                    sequence, 1 << 20, EvictionPolicy.FREQUENCY, KvDType.BF16);
            TrainingSettings s = new TrainingSettings(mode, new LoraSettings(64, 8, 0f), memory, false,
                    new LrSchedule(1e-5, 0, steps + 1, LrSchedule.Decay.CONSTANT, 1), 0, 0.9, 0.999, 1e-8, 1.0, 1, 1,
                    sequence, 1, 1);
            params.prepare(mode, m, s.lora(), 1);
            Random rnd = new Random(1);
            int[] doc = new int[(steps + 2) * sequence + 1];
            for (int i = 0; i < doc.length; i++) {
                doc[i] = rnd.nextInt(params.config().vocabSize());
            }
            List<Double> times = new ArrayList<>();
            try (Trainer trainer = new Trainer(params, s, List.of(doc), null, null)) {
                trainer.trainStep(); // warm-up
                for (int i = 0; i < steps; i++) {
                    times.add(trainer.trainStep().seconds());
                }
            }
            double[] t = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.println(String.format(Locale.ROOT, "%.4f %d", t[t.length / 2], peakRss()));
        }
    }

    /** VmHWM of this process in bytes (Linux), or -1. */
    static long peakRss() throws java.io.IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return -1;
        }
        return Files.readAllLines(status).stream().filter(l -> l.startsWith("VmHWM:"))
                .map(l -> Long.parseLong(Arrays.stream(l.split("\\s+")).filter(x -> x.matches("\\d+")).findFirst().orElse("0")) * 1024)
                .findFirst().orElse(-1L);
    }
}
