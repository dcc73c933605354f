package dev.memlong.runtime.train;

import dev.memlong.runtime.retriever.Retriever;
import java.util.List;

/** A deterministic test retriever: words hashed into a normalised bag-of-words vector. */
final class HashingRetriever implements Retriever {

    static final int DIM = 64;
    int calls;

    @Override
    public float[][] embed(List<String> texts) {
        calls++;
        float[][] out = new float[texts.size()][DIM];
        for (int i = 0; i < texts.size(); i++) {
            for (String word : texts.get(i).toLowerCase().split("\\W+")) {
                if (!word.isEmpty()) {
                    out[i][Math.floorMod(word.hashCode(), DIM)] += 1;
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
            for (int j = 0; j < DIM; j++) {
                out[i][j] /= (float) Math.sqrt(norm);
            }
        }
        return out;
    }

    @Override
    public int dimension() {
        return DIM;
    }

    @Override
    public void close() {}
}
