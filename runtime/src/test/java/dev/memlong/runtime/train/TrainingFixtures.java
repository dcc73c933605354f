package dev.memlong.runtime.train;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemorySettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small training set-ups on the fixture model (4 layers; memory layer 1, retrieval layers 1 and 3; chunk 8). */
final class TrainingFixtures {

    static final MemorySettings MEMORY = new MemorySettings(1, List.of(1, 3), 8, 2, 16, 100_000,
            EvictionPolicy.FREQUENCY, KvDType.FP32);

    private TrainingFixtures() {}

    static List<int[]> documents(int count, int length, long seed) {
        Random rnd = new Random(seed);
        List<int[]> docs = new ArrayList<>();
        for (int d = 0; d < count; d++) {
            int[] ids = new int[length];
            for (int i = 0; i < length; i++) {
                ids[i] = 7 + rnd.nextInt(300);
            }
            docs.add(ids);
        }
        return docs;
    }

    static TrainingSettings lora(int workers, int steps) {
        return lora(workers, steps, 0);
    }

    /**
     * As {@link #lora(int, int)}, segments starting at positions 1..1+positionSpread. AdamW's epsilon is 1e-4, not
     * 1e-8: one worker and two sum a step's gradient in different orders (float rounding, ~1e-7 relative), and with a
     * tiny epsilon Adam can turn a near-zero gradient element into a full ±lr update whose sign that rounding decides.
     * With 1e-4 such elements move by at most ~lr·|g|/1e-4. (The CI failures this was first blamed on, parameters
     * several lr apart, were the backward reading freed memory: see TrainingForward.scalar.)
     */
    static TrainingSettings lora(int workers, int steps, int positionSpread) {
        return new TrainingSettings(TrainingMode.LORA_UPPER, new LoraSettings(4, 8, 0.1f), MEMORY, true,
                new LrSchedule(1e-2, 1, steps, LrSchedule.Decay.COSINE, 0.1), 1e-2, 0.9, 0.999, 1e-4, 1.0, 2, 2, 16,
                workers, 42, 0, 0, positionSpread);
    }
}
