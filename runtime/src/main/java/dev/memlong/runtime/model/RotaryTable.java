package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.memlong.runtime.config.RopeScaling;

/**
 * Precomputed cos/sin rows for every position a cache can hold, laid out as transformers does
 * ({@code emb = cat(freqs, freqs)}), so one gather per forward gives the rotation of every token.
 */
final class RotaryTable implements AutoCloseable {

    private final NDArray cos;
    private final NDArray sin;
    private final int positions;
    private final float[] cosRows;
    private final float[] sinRows;

    RotaryTable(NDManager manager, RopeScaling rope, int positions) {
        this.positions = positions;
        float[] inv = rope.inverseFrequencies();
        int half = inv.length;
        int dim = 2 * half;
        float[] c = new float[positions * dim];
        float[] s = new float[positions * dim];
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                // transformers: freqs = (inv_freq.float() @ position.float()) in fp32, then cos/sin in fp32
                float angle = (float) p * inv[i];
                float cv = (float) Math.cos(angle);
                float sv = (float) Math.sin(angle);
                c[p * dim + i] = cv;
                c[p * dim + half + i] = cv;
                s[p * dim + i] = sv;
                s[p * dim + half + i] = sv;
            }
        }
        this.cosRows = c;
        this.sinRows = s;
        this.cos = manager.create(c, new Shape(positions, dim));
        this.sin = manager.create(s, new Shape(positions, dim));
    }

    /**
     * Row-vector rotation matrices {@code M_p} with {@code rope(x, p) = x · M_p}, one {@code [D, D]} per position:
     * {@code M[i][i] = M[i+h][i+h] = cos}, {@code M[i][i+h] = sin}, {@code M[i+h][i] = -sin} (h = D/2).
     */
    float[] rotationMatrices(long[] positionIds) {
        int dim = cosRows.length / positions;
        int half = dim / 2;
        float[] m = new float[positionIds.length * dim * dim];
        for (int n = 0; n < positionIds.length; n++) {
            int row = (int) positionIds[n] * dim;
            int base = n * dim * dim;
            for (int i = 0; i < half; i++) {
                float c = cosRows[row + i];
                float s = sinRows[row + i];
                m[base + i * dim + i] = c;
                m[base + (i + half) * dim + (i + half)] = c;
                m[base + i * dim + i + half] = s;
                m[base + (i + half) * dim + i] = -s;
            }
        }
        return m;
    }

    int positions() {
        return positions;
    }

    /** cos rows for the given positions: {@code [N, dim]}. */
    NDArray cos(NDArray positionIds) {
        return cos.get(positionIds);
    }

    NDArray sin(NDArray positionIds) {
        return sin.get(positionIds);
    }

    @Override
    public void close() {
        cos.close();
        sin.close();
    }
}
