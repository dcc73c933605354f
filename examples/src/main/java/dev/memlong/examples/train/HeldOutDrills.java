package dev.memlong.examples.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.TrainingForward;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Held-out stage-1 drills as {@link DrillReadingCheck} and {@link KeyProbe} read them: one {@value #SEGMENT}-token
 * segment of stated facts (the memory), then one segment of questions; and the memory layer's keys and values of the
 * stated segment, computed as in-graph memory is in training.
 */
final class HeldOutDrills {

    static final int SEGMENT = 128;

    private final MemoryDrillDocuments layout;
    private final SyntheticDialogues gen;

    HeldOutDrills(Path modelDir, TextTokenizer tokenizer, long seed) {
        this.layout = new MemoryDrillDocuments(tokenizer, ChatTemplate.find(modelDir), SEGMENT);
        this.gen = new SyntheticDialogues(seed);
    }

    /** The next drill of {@code facts} facts related as {@code kind} says: document entries (context-only marked). */
    int[] next(SyntheticDialogues.Negatives kind, int facts) {
        SyntheticDialogues.MemoryDrill drill;
        do { // four long facts may not fit a segment: drawn again, as train-demo does
            drill = gen.memoryDrill(facts, kind);
        } while (layout.statedTokens(drill) > SEGMENT);
        return layout.document(drill, 1);
    }

    /** The memory layer's pre-RoPE keys and values of the stated segment of {@code ids}, each {@code [SEGMENT, KV, D]}. */
    static NDArray[] statedMemory(TrainingForward forward, ModelParameters params, NDManager m, int[] ids) {
        long[] stated = Arrays.stream(ids, 0, SEGMENT).asLongStream().toArray();
        return forward.forwardToMemoryLayer(params::get, m, new TrainingForward.Input(stated, 1, SEGMENT, 1, null, null));
    }
}
