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
    private final float[] cosRows; // the same tables in Java, for the Java decode step: [positions * dim]
    private final float[] sinRows;
    private final int positions;

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

    /** cos of position {@code p} at {@code [p * dim, (p + 1) * dim)}. */
    float[] cosTable() {
        return cosRows;
    }

    float[] sinTable() {
        return sinRows;
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
