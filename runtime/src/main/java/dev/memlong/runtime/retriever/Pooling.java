package dev.memlong.runtime.retriever;

import java.nio.FloatBuffer;

/** How token states of the model's last hidden layer become one text vector (before L2 normalisation). */
public enum Pooling {
    /** The first ({@code [CLS]}) token's state, as the bge family (bge-small, bge-m3 dense) does. */
    CLS,
    /** The attention-masked mean of all token states, as sentence-transformers' mean pooling does. */
    MEAN;

    /**
     * Pools one sequence.
     *
     * @param states row-major {@code [tokens, width]} states of the batch
     * @param offset index of the sequence's first state
     * @param tokens unpadded tokens of the sequence (its attention mask is a prefix of ones)
     * @param width  hidden size
     */
    float[] pool(FloatBuffer states, long offset, int tokens, int width) {
        float[] v = new float[width];
        int base = Math.toIntExact(offset);
        if (this == CLS) {
            states.get(base, v, 0, width);
            return v;
        }
        double[] sum = new double[width];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < width; h++) {
                sum[h] += states.get(base + t * width + h);
            }
        }
        for (int h = 0; h < width; h++) {
            v[h] = (float) (sum[h] / tokens);
        }
        return v;
    }
}
