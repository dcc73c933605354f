package dev.memlong.examples.bench.batching;

import dev.memlong.runtime.retriever.Retriever;
import java.util.List;
import java.util.Locale;

/**
 * The benchmark's retriever: words hashed into a normalised 64-d bag-of-words vector. Costs microseconds, so the
 * benchmark measures the scheduler and the model, not ONNX embedding (which on a CPU device runs on the device's
 * thread whenever a window overflows or a chunk boundary retrieves).
 */
final class HashingRetriever implements Retriever {

    private static final int DIM = 64;

    @Override
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][DIM];
        for (int i = 0; i < texts.size(); i++) {
            for (String word : texts.get(i).toLowerCase(Locale.ROOT).split("\\W+")) {
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
