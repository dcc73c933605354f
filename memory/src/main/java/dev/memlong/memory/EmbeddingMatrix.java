package dev.memlong.memory;

import java.util.Arrays;

/**
 * Embeddings as the rows of one growable row-major {@code float[]}, for cache-friendly exact search. Rows keep
 * their insertion order; removing rows compacts the ones after them.
 */
final class EmbeddingMatrix {

    private final int dim;
    private float[] data;
    private int rows;

    EmbeddingMatrix(int dim) {
        this.dim = dim;
        this.data = new float[dim * 16];
    }

    int rows() {
        return rows;
    }

    void add(float[] row) {
        if ((rows + 1) * (long) dim > data.length) {
            long grown = Math.max((long) data.length * 2, (long) (rows + 1) * dim);
            data = Arrays.copyOf(data, Math.toIntExact(grown));
        }
        System.arraycopy(row, 0, data, rows * dim, dim);
        rows++;
    }

    float[] row(int r) {
        return Arrays.copyOfRange(data, r * dim, (r + 1) * dim);
    }

    /** Inner product of row {@code r} with {@code q}, summed in index order. */
    float dot(int r, float[] q) {
        int base = r * dim;
        float s = 0f;
        for (int i = 0; i < dim; i++) {
            s += data[base + i] * q[i];
        }
        return s;
    }

    /** Keeps the rows whose flag is false, in order. */
    void removeRows(boolean[] remove) {
        int out = 0;
        for (int r = 0; r < rows; r++) {
            if (!remove[r]) {
                if (out != r) {
                    System.arraycopy(data, r * dim, data, out * dim, dim);
                }
                out++;
            }
        }
        rows = out;
    }

    void clear() {
        rows = 0;
        data = new float[dim * 16];
    }
}
