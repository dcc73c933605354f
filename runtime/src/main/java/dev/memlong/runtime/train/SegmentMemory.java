package dev.memlong.runtime.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Retrieved memory for one training forward: per batch row the memory layer's pre-RoPE keys and values of its
 * retrieved chunks (chronological), zero-padded to the widest row. Constants for autograd (memory K/V are
 * detached, as in MemLong training).
 *
 * <p>A row's segment may be split into pieces, each with its own retrieved chunks: the tokens of piece {@code j}
 * attend to piece {@code j}'s chunks only (plus, causally, every earlier local token). That is what inference
 * computes when it retrieves again for a new input or at a chunk boundary: the tokens after it read the chunks
 * retrieved there, while the cached tokens before it keep what they were computed with.
 */
public final class SegmentMemory {

    private final NDArray keys;   // [B, KV, M, D]
    private final NDArray values; // [B, KV, M, D]
    private final int[][] tokenStarts;  // per row, the first token of each piece (the first is 0)
    private final int[][] pieceStarts; // per row, the first memory column of each piece, then the row's end
    private final int width;
    private final float scoreBias;

    private SegmentMemory(NDArray keys, NDArray values, int[][] tokenStarts, int[][] pieceStarts, int width,
                          float scoreBias) {
        this.keys = keys;
        this.values = values;
        this.tokenStarts = tokenStarts;
        this.pieceStarts = pieceStarts;
        this.width = width;
        this.scoreBias = scoreBias;
    }

    /**
     * The same memory with {@code bias} added to every memory attention score (after scaling): a training-only aid,
     * see {@link TrainingSettings#memoryScoreBias}.
     */
    public SegmentMemory withScoreBias(float bias) {
        return new SegmentMemory(keys, values, tokenStarts, pieceStarts, width, bias);
    }

    /**
     * One memory per row, read by every token of the row.
     *
     * @param keys   per row token-major {@code [tokens, kvHeads, headDim]} floats (an empty array for none)
     * @param values the same layout
     * @return null when no row has memory
     */
    public static SegmentMemory of(NDManager m, float[][] keys, float[][] values, int kvHeads, int headDim) {
        float[][][] k = new float[keys.length][][];
        float[][][] v = new float[values.length][][];
        int[][] starts = new int[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            k[i] = new float[][] {keys[i]};
            v[i] = new float[][] {values[i]};
            starts[i] = new int[] {0};
        }
        return perPiece(m, k, v, starts, kvHeads, headDim);
    }

    /**
     * A memory per piece: row {@code i}'s tokens from {@code tokenStarts[i][j]} up to the next piece's start read
     * {@code keys[i][j]} / {@code values[i][j]} (token-major {@code [tokens, kvHeads, headDim]}; empty for none).
     *
     * @param tokenStarts per row, each piece's first token: {@code 0} first, then increasing
     * @return null when no piece has memory
     */
    public static SegmentMemory perPiece(NDManager m, float[][][] keys, float[][][] values, int[][] tokenStarts,
                                         int kvHeads, int headDim) {
        int perToken = kvHeads * headDim;
        int b = keys.length;
        int[][] starts = new int[b][];
        int width = 0;
        for (int i = 0; i < b; i++) {
            if (tokenStarts[i].length != keys[i].length || tokenStarts[i][0] != 0) {
                throw new IllegalArgumentException("row " + i + ": one start per piece, the first at token 0");
            }
            for (int j = 1; j < tokenStarts[i].length; j++) {
                if (tokenStarts[i][j] <= tokenStarts[i][j - 1]) {
                    throw new IllegalArgumentException("row " + i + ": piece starts must increase");
                }
            }
            starts[i] = new int[keys[i].length + 1];
            for (int j = 0; j < keys[i].length; j++) {
                if (keys[i][j].length % perToken != 0 || values[i][j].length != keys[i][j].length) {
                    throw new IllegalArgumentException("row " + i + " piece " + j + ": keys and values must hold whole "
                            + "tokens of " + perToken + " floats each");
                }
                starts[i][j + 1] = starts[i][j] + keys[i][j].length / perToken;
            }
            width = Math.max(width, starts[i][keys[i].length]);
        }
        if (width == 0) {
            return null;
        }
        float[] k = new float[b * width * perToken];
        float[] v = new float[b * width * perToken];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < keys[i].length; j++) {
                int at = (i * width + starts[i][j]) * perToken;
                System.arraycopy(keys[i][j], 0, k, at, keys[i][j].length);
                System.arraycopy(values[i][j], 0, v, at, values[i][j].length);
            }
        }
        Shape shape = new Shape(b, width, kvHeads, headDim);
        return new SegmentMemory(m.create(k, shape).transpose(0, 2, 1, 3), m.create(v, shape).transpose(0, 2, 1, 3),
                tokenStarts, starts, width, 0f);
    }

    /**
     * Memory computed in the current graph (gradients flow into it): per row the first {@code tokens[i]} positions of
     * {@code keys}/{@code values}, each {@code [B, T, KV, D]}.
     */
    public static SegmentMemory inGraph(NDArray keys, NDArray values, int[] tokens) {
        int width = (int) keys.getShape().get(1);
        int[][] starts = new int[tokens.length][];
        int[][] tokenStarts = new int[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            starts[i] = new int[] {0, tokens[i]};
            tokenStarts[i] = new int[] {0};
        }
        return new SegmentMemory(keys.transpose(0, 2, 1, 3), values.transpose(0, 2, 1, 3), tokenStarts, starts, width,
                0f);
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

    /**
     * Additive mask {@code [B, 1, 1, T, M + T]}: each token's own piece's memory (plus any score bias), then the
     * causal local part.
     */
    NDArray mask(NDManager m, int t) {
        return m.create(maskValues(t), new Shape(pieceStarts.length, 1, 1, t, width + t));
    }

    /** {@link #mask}'s values, row-major. */
    float[] maskValues(int t) {
        int b = pieceStarts.length;
        int cols = width + t;
        float[] mask = new float[b * t * cols];
        Arrays.fill(mask, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < b; i++) {
            int piece = 0;
            for (int r = 0; r < t; r++) {
                int row = (i * t + r) * cols;
                while (piece + 1 < tokenStarts[i].length && tokenStarts[i][piece + 1] <= r) {
                    piece++;
                }
                Arrays.fill(mask, row + pieceStarts[i][piece], row + pieceStarts[i][piece + 1], scoreBias);
                Arrays.fill(mask, row + width, row + width + r + 1, 0f);
            }
        }
        return mask;
    }
}
