package dev.memlong.runtime.retriever;

import java.util.List;
import java.util.Locale;

/**
 * A deterministic bag-of-words retriever: lower-cased words hashed into an L2-normalised count vector. No model,
 * no native code — for tests, quick training runs and benchmarks that must not spend time embedding. Texts that
 * share words score high; it knows nothing of meaning.
 */
public final class HashingRetriever implements Retriever {

    /** The dimension the tests and benchmarks use. */
    public static final int DEFAULT_DIMENSION = 64;

    private final int dimension;

    public HashingRetriever() {
        this(DEFAULT_DIMENSION);
    }

    public HashingRetriever(int dimension) {
        if (dimension <= 0) {
            throw new IllegalArgumentException("dimension must be positive, got " + dimension);
        }
        this.dimension = dimension;
    }

    @Override
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][dimension];
        for (int i = 0; i < texts.size(); i++) {
            for (String word : texts.get(i).toLowerCase(Locale.ROOT).split("\\W+")) {
                if (!word.isEmpty()) {
                    out[i][Math.floorMod(word.hashCode(), dimension)] += 1;
                }
            }
            double norm = 0;
            for (float v : out[i]) {
                norm += v * v;
            }
            if (norm == 0) {
                out[i][0] = 1;
                norm = 1;
            }
            for (int j = 0; j < dimension; j++) {
                out[i][j] /= (float) Math.sqrt(norm);
            }
        }
        return out;
    }

    @Override
    public String id() {
        return "hashing-words/" + dimension;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public void close() {}
}
