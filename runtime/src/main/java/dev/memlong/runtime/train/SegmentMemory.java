package dev.memlong.runtime.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Retrieved memory for one training forward: per batch row the memory layer's pre-RoPE keys and values of its
 * retrieved chunks (chronological), zero-padded to the widest row. Constants for autograd (memory K/V are
 * detached, as in MemLong training).
 */
public final class SegmentMemory {

    private final NDArray keys;   // [B, KV, M, D]
    private final NDArray values; // [B, KV, M, D]
    private final int[] tokens;
    private final int width;
    private final float scoreBias;

    private SegmentMemory(NDArray keys, NDArray values, int[] tokens, int width, float scoreBias) {
        this.keys = keys;
        this.values = values;
        this.tokens = tokens;
        this.width = width;
        this.scoreBias = scoreBias;
    }

    /**
     * The same memory with {@code bias} added to every memory attention score (after scaling): a training-only aid,
     * see {@link TrainingSettings#memoryScoreBias}.
     */
    public SegmentMemory withScoreBias(float bias) {
        return new SegmentMemory(keys, values, tokens, width, bias);
    }

    /**
     * @param keys   per row token-major {@code [tokens, kvHeads, headDim]} floats (an empty array for none)
     * @param values the same layout
     * @return null when no row has memory
     */
    public static SegmentMemory of(NDManager m, float[][] keys, float[][] values, int kvHeads, int headDim) {
        int perToken = kvHeads * headDim;
        int b = keys.length;
        int[] tokens = new int[b];
        int width = 0;
        for (int i = 0; i < b; i++) {
            tokens[i] = keys[i].length / perToken;
            width = Math.max(width, tokens[i]);
        }
        if (width == 0) {
            return null;
        }
        float[] k = new float[b * width * perToken];
        float[] v = new float[b * width * perToken];
        for (int i = 0; i < b; i++) {
            System.arraycopy(keys[i], 0, k, i * width * perToken, keys[i].length);
            System.arraycopy(values[i], 0, v, i * width * perToken, values[i].length);
        }
        Shape shape = new Shape(b, width, kvHeads, headDim);
        return new SegmentMemory(m.create(k, shape).transpose(0, 2, 1, 3), m.create(v, shape).transpose(0, 2, 1, 3),
                tokens, width, 0f);
    }

    /**
     * Memory computed in the current graph (gradients flow into it): per row the first {@code tokens[i]} positions of
     * {@code keys}/{@code values}, each {@code [B, T, KV, D]}.
     */
    public static SegmentMemory inGraph(NDArray keys, NDArray values, int[] tokens) {
        int width = (int) keys.getShape().get(1);
        return new SegmentMemory(keys.transpose(0, 2, 1, 3), values.transpose(0, 2, 1, 3), tokens.clone(), width, 0f);
    }

    NDArray keys() {
        return keys;
    }

    NDArray values() {
        return values;
    }

    /** Memory columns (the widest row's tokens). */
    int width() {
        return width;
    }

    /** Additive mask {@code [B, 1, 1, T, M + T]}: each row's own memory (plus any score bias), then the causal local part. */
    NDArray mask(NDManager m, int t, NDArray localCausal) {
        int b = tokens.length;
        int cols = width + t;
        float[] mask = new float[b * t * cols];
        Arrays.fill(mask, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < b; i++) {
            for (int r = 0; r < t; r++) {
                int row = (i * t + r) * cols;
                Arrays.fill(mask, row, row + tokens[i], scoreBias);
                Arrays.fill(mask, row + width, row + width + r + 1, 0f);
            }
        }
        return m.create(mask, new Shape(b, 1, 1, t, cols));
    }
}
