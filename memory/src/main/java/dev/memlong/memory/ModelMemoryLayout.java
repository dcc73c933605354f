package dev.memlong.memory;

import java.util.List;

/**
 * The MemLong layout a model was trained with, as its directory declares it (the runtime reads it from the
 * {@code "memlong"} object of {@code config.json}). Each part may be absent (null). Settings left {@code auto}
 * take the model's value where it has one, so a model trained with memory layer 2 and chunks of 64 is served
 * that way without the application repeating it; an explicit setting still wins.
 */
public record ModelMemoryLayout(Integer memoryLayer, List<Integer> retrievalLayers, Integer chunkSize, Integer topK,
                                Integer localWindow, Integer nextChunks) {

    /** A model that declares nothing: every {@code auto} falls back to the formula. */
    public static final ModelMemoryLayout NONE = new ModelMemoryLayout(null, null, null, null, null, null);

    /** A layout that declares no {@code next_chunks}. */
    public ModelMemoryLayout(Integer memoryLayer, List<Integer> retrievalLayers, Integer chunkSize, Integer topK,
                             Integer localWindow) {
        this(memoryLayer, retrievalLayers, chunkSize, topK, localWindow, null);
    }

    public ModelMemoryLayout {
        retrievalLayers = retrievalLayers == null ? null : List.copyOf(retrievalLayers);
    }

    int memoryLayerOr(int fallback) {
        return memoryLayer != null ? memoryLayer : fallback;
    }

    int chunkSizeOr(int fallback) {
        return chunkSize != null ? chunkSize : fallback;
    }

    int topKOr(int fallback) {
        return topK != null ? topK : fallback;
    }

    int nextChunksOr(int fallback) {
        return nextChunks != null ? nextChunks : fallback;
    }
}
