package dev.memlong.actors.scheduler;

import dev.memlong.runtime.retriever.Retriever;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The retriever a device's model replica sees: it answers from vectors embedded beforehand, off the device thread
 * (the device worker has the texts a step will embed computed on the embedding dispatcher first, see
 * {@code MemLongSequence.textsToEmbed}), so the device thread never waits for the embedding model. A text with no
 * vector ready is embedded by the shared retriever on the calling thread (a miss, counted; correct but slow).
 *
 * <p>A vector stays until {@link #retainOnly} drops it after a step, not when it is read: one step may read the same
 * text several times (an overflow whose chunks say the same thing, two conversations whose windows hold the same
 * text, which then asked for it once between them), and the retriever is frozen, so the vector is the same for every
 * reader. (Until it was kept, a vector was handed out once and every repeat of its text was embedded on the device
 * thread, text by text, stalling the whole batch.)
 *
 * <p>Used by one device worker's thread only (vectors are put and read there); the shared retriever it wraps is
 * thread-safe and not closed here.
 */
final class EmbeddingPrefetch implements Retriever {

    private final Retriever shared;
    private final Map<String, float[]> ready = new HashMap<>();
    private final LongAdder misses = new LongAdder();

    EmbeddingPrefetch(Retriever shared) {
        this.shared = shared;
    }

    /** The shared retriever, for embedding on another thread. */
    Retriever shared() {
        return shared;
    }

    /** Whether every text has a vector ready. */
    boolean hasAll(List<String> texts) {
        return ready.keySet().containsAll(texts);
    }

    /** The vector ready for {@code text}, or null. */
    float[] vector(String text) {
        return ready.get(text);
    }

    /** The texts without a vector ready. */
    List<String> missing(List<String> texts) {
        return texts.stream().filter(t -> !ready.containsKey(t)).distinct().toList();
    }

    /** Vectors embedded elsewhere, for the next {@link #embed} of these texts. */
    void put(List<String> texts, float[][] vectors) {
        for (int i = 0; i < texts.size(); i++) {
            ready.put(texts.get(i), vectors[i]);
        }
    }

    /** Drops vectors nobody took (their turns ended); called when the device is idle. */
    void clear() {
        ready.clear();
    }

    /** Keeps the vectors of {@code texts} only (those a turn still waits to run with); drops the rest. */
    void retainOnly(java.util.Set<String> texts) {
        ready.keySet().retainAll(texts);
    }

    /** Texts with a vector ready. */
    int size() {
        return ready.size();
    }

    /** Embeddings the device thread had to compute itself. */
    long misses() {
        return misses.sum();
    }

    @Override
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            out[i] = ready.get(texts.get(i));
            if (out[i] == null) {
                misses.increment();
                out[i] = shared.embed(texts.get(i));
                ready.put(texts.get(i), out[i]); // a repeat of the text in this step reads it
            }
        }
        return out;
    }

    @Override
    public int dimension() {
        return shared.dimension();
    }

    @Override
    public String id() {
        return shared.id();
    }

    @Override
    public void close() {
        ready.clear(); // the shared retriever belongs to the runtime
    }
}
