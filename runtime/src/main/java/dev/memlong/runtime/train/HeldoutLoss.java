package dev.memlong.runtime.train;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Next-token cross-entropy of a model on documents it does not train on, computed the way training sees data:
 * each document read consecutively in segments of the training window, with MemLong retrieval in the loop (each
 * segment retrieves from the chunks of the same document read before it, then stores its own). No dropout, no
 * gradients. Comparing it before and after a round on the same documents tells whether the round helped.
 */
public final class HeldoutLoss {

    /**
     * @param loss    mean cross-entropy per target token (NaN when there is no target)
     * @param targets target tokens the mean is over
     */
    public record Result(double loss, long targets) {}

    private HeldoutLoss() {}

    /** Evaluates on the calling thread (gradient recording off while it runs). */
    public static Result evaluate(ModelParameters params, TrainingSettings settings, List<int[]> documents,
                                  Retriever retriever, TextTokenizer tokenizer) {
        if (settings.retrieval() && (retriever == null || tokenizer == null)) {
            throw new IllegalArgumentException("evaluating with retrieval needs a retriever and a tokenizer");
        }
        TrainingForward forward = Trainer.forwardFor(params, settings);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            double sum = 0;
            long targets = 0;
            for (int[] document : documents) {
                double[] doc = document(params, settings, forward, document, retriever, tokenizer);
                sum += doc[0];
                targets += (long) doc[1];
            }
            return new Result(targets == 0 ? Double.NaN : sum / targets, targets);
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** {summed cross-entropy, targets} of one document. */
    private static double[] document(ModelParameters params, TrainingSettings settings, TrainingForward forward,
                                     int[] document, Retriever retriever, TextTokenizer tokenizer) {
        int segment = settings.segmentLength();
        var config = params.config();
        double sum = 0;
        long targets = 0;
        try (SlotMemory memory = settings.retrieval() ? new SlotMemory(settings.memory(), retriever, tokenizer,
                config.numKvHeads(), config.headDim()) : null) {
            for (int from = 0; from + 1 < document.length; from += segment) {
                int[] piece = Arrays.stream(document, from, Math.min(document.length, from + segment))
                        .map(SlotStreams::id).toArray();
                long[] tokens = new long[piece.length];
                long[] next = new long[piece.length];
                for (int i = 0; i < piece.length; i++) {
                    tokens[i] = piece[i];
                    next[i] = from + i + 1 < document.length && document[from + i + 1] >= 0 ? document[from + i + 1] : -1;
                    targets += next[i] >= 0 ? 1 : 0;
                }
                try (NDManager m = params.manager().newSubManager(); NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    SegmentMemory retrieved = null;
                    if (memory != null) {
                        SlotMemory.Retrieved r = memory.retrieve(piece);
                        retrieved = SegmentMemory.perPiece(m, new float[][][] {r.keys()}, new float[][][] {r.values()},
                                new int[][] {r.starts()}, config.numKvHeads(), config.headDim());
                    }
                    TrainingForward.Output out = forward.forward(params::get, m, new TrainingForward.Input(tokens, 1,
                            piece.length, memory != null ? 1 : 0, retrieved, null));
                    sum += TrainingForward.crossEntropySum(m, out.logits(), next).getFloat();
                    if (memory != null) {
                        memory.store(piece, out.memoryKeys().toFloatArray(), out.memoryValues().toFloatArray());
                    }
                }
            }
        }
        return new double[] {sum, targets};
    }
}
