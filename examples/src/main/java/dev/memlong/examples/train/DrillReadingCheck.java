package dev.memlong.examples.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.SegmentMemory;
import dev.memlong.runtime.train.SlotStreams;
import dev.memlong.runtime.train.TrainingForward;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * How well a model reads memory on held-out stage-1 drills, by how the remembered facts relate: the stated segment is
 * the memory (its memory-layer K/V at position 0, as in-graph memory in training), the next segment asks, and a value
 * counts where it can only come from memory (stated in the memory segment, not earlier in the window). Greedy next
 * token at each such value, teacher-forced. This separates reading from retrieval: {@link RecallCheck} measures
 * both at once, on a long conversation.
 */
public final class DrillReadingCheck {

    /**
     * @param accuracy per {@link SyntheticDialogues.Negatives}: share of memory-only values predicted right
     * @param values   per kind: how many such values were asked
     */
    public record Result(Map<String, Double> accuracy, Map<String, Integer> values) {}

    private static final int SEGMENT = HeldOutDrills.SEGMENT;

    private DrillReadingCheck() {}

    /** {@code drills} drills of each kind from {@code seed} (training used others). */
    public static Result run(Path modelDir, MemorySettings memory, TextTokenizer tokenizer, long seed, int drills) {
        HeldOutDrills held = new HeldOutDrills(modelDir, tokenizer, seed);
        Set<Integer> valueTokens = new HashSet<>();
        SyntheticDialogues.valueWords().forEach(w -> Arrays.stream(tokenizer.encode(w, false)).forEach(valueTokens::add));
        int is = tokenizer.encode("is", false)[0];
        Map<String, Double> accuracy = new LinkedHashMap<>();
        Map<String, Integer> counts = new LinkedHashMap<>();
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager root = NDManager.newBaseManager()) {
            ModelParameters params = ModelParameters.load(modelDir, root);
            var config = params.config();
            TrainingForward forward = new TrainingForward(config, memory.memoryLayer(),
                    memory.retrievalLayers().stream().mapToInt(Integer::intValue).toArray(), null,
                    memory.memoryLayer() + 1);
            for (SyntheticDialogues.Negatives kind : SyntheticDialogues.Negatives.values()) {
                int right = 0;
                int count = 0;
                for (int i = 0; i < drills; i++) {
                    int facts = kind == SyntheticDialogues.Negatives.NONE ? 1 + i % 4 : 2 + i % 3;
                    int[] doc = held.next(kind, facts);
                    int[] ids = Arrays.stream(doc).map(SlotStreams::id).toArray();
                    try (NDManager m = root.newSubManager()) {
                        NDArray[] kv = HeldOutDrills.statedMemory(forward, params, m, ids);
                        SegmentMemory mem = SegmentMemory.inGraph(
                                kv[0].reshape(1, SEGMENT, config.numKvHeads(), config.headDim()),
                                kv[1].reshape(1, SEGMENT, config.numKvHeads(), config.headDim()), new int[] {SEGMENT});
                        long[] asked = Arrays.stream(ids, SEGMENT, ids.length).asLongStream().toArray();
                        long[] argmax = forward.forward(params::get, m,
                                new TrainingForward.Input(asked, 1, asked.length, 1, mem, null)).logits().argMax(2)
                                .toLongArray();
                        for (int p = SEGMENT + 1; p < ids.length; p++) {
                            if (doc[p] < 0 || ids[p - 1] != is || !valueTokens.contains(ids[p])
                                    || !contains(ids, 0, SEGMENT, ids[p]) || contains(ids, SEGMENT, p, ids[p])) {
                                continue; // not an answer's value that only memory holds
                            }
                            count++;
                            right += argmax[p - 1 - SEGMENT] == ids[p] ? 1 : 0;
                        }
                    }
                }
                accuracy.put(kind.name(), count == 0 ? Double.NaN : (double) right / count);
                counts.put(kind.name(), count);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        return new Result(accuracy, counts);
    }

    private static boolean contains(int[] ids, int from, int to, int id) {
        for (int i = from; i < to; i++) {
            if (ids[i] == id) {
                return true;
            }
        }
        return false;
    }
}
