package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.memlong.runtime.engine.Engines;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The weighted training loss against a direct computation of log-softmax in doubles. */
class TargetWeightsTest {

    @Test
    void weightedCrossEntropyIsTheWeightedSumOfPerTokenLosses() {
        int b = 2;
        int t = 5;
        int vocab = 7;
        Random rnd = new Random(3);
        float[] logits = new float[b * t * vocab];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (rnd.nextGaussian() * 2);
        }
        long[] targets = {3, 5, -1, 0, 5, 6, 3, 3, -1, 1};
        TargetWeights w = TargetWeights.of(4.0, 3, 6);
        double expected = 0;
        double unweighted = 0;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] < 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, logits[i * vocab + v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(logits[i * vocab + v] - max);
            }
            double nll = max + Math.log(sum) - logits[i * vocab + (int) targets[i]];
            expected += (targets[i] == 3 || targets[i] == 6 ? 4.0 : 1.0) * nll;
            unweighted += nll;
        }
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            var x = m.create(logits, new Shape(b, t, vocab));
            assertEquals(expected, TrainingForward.crossEntropySum(m, x, targets, w).getFloat(), 1e-4);
            assertEquals(unweighted, TrainingForward.crossEntropySum(m, x, targets).getFloat(), 1e-4);
        }
        // the step's normalizer: 3 targets of weight 4 (3, 6, 3, 3 -> four), the rest 1
        assertEquals(4 * 4 + 4, w.sum(targets), 1e-9);
        assertEquals(8, TargetWeights.NONE.sum(targets), 1e-9);
    }

    @Test
    void weightsMustBePositiveAndTheSetIsCopied() {
        assertThrows(IllegalArgumentException.class, () -> TargetWeights.of(0, 1));
        assertThrows(IllegalArgumentException.class, () -> TargetWeights.of(Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> TargetWeights.of(2, -1));
        BitSet ids = new BitSet();
        ids.set(5);
        TargetWeights w = new TargetWeights(ids, 3);
        ids.set(6);
        assertEquals(1f, w.of(6));
        assertEquals(3f, w.of(5));
        assertEquals(0f, w.of(-1));
    }
}
