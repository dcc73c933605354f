package dev.memlong.examples.train;

import dev.memlong.runtime.retriever.Retriever;
import java.util.List;
import java.util.Locale;

/**
 * A fast, deterministic stand-in retriever: words hashed into an L2-normalised bag-of-words vector. For quick
 * training runs and tests; the runtime's default retriever is bge-small.
 */
public final class BagOfWordsRetriever implements Retriever {

    private final int dim;

    public BagOfWordsRetriever(int dim) {
        this.dim = dim;
    }

    @Override
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][dim];
        for (int i = 0; i < texts.size(); i++) {
            for (String w : texts.get(i).toLowerCase(Locale.ROOT).split("\\W+")) {
                if (!w.isEmpty()) {
                    out[i][Math.floorMod(w.hashCode(), dim)] += 1;
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
            for (int j = 0; j < dim; j++) {
                out[i][j] /= (float) Math.sqrt(norm);
            }
        }
        return out;
    }

    @Override
    public int dimension() {
        return dim;
    }

    @Override
    public void close() {}
}
