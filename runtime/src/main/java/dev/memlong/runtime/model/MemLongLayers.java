package dev.memlong.runtime.model;

import java.util.Arrays;

/**
 * Where MemLong hooks into the decoder: the memory layer whose pre-RoPE keys and values are kept for storage,
 * and the retrieval layers that attend to retrieved memory. A cache created with these layers also numbers
 * local tokens from position 1 ("Zero" mode): retrieved memory keys sit at position 0.
 *
 * @param memoryLayer     0-based memory layer
 * @param retrievalLayers ascending retrieval layers, each at or above the memory layer
 */
public record MemLongLayers(int memoryLayer, int[] retrievalLayers) {

    public MemLongLayers {
        retrievalLayers = retrievalLayers.clone();
        for (int i = 0; i < retrievalLayers.length; i++) {
            if (retrievalLayers[i] < memoryLayer || (i > 0 && retrievalLayers[i] <= retrievalLayers[i - 1])) {
                throw new IllegalArgumentException("retrieval layers must ascend from the memory layer "
                        + memoryLayer + ": " + Arrays.toString(retrievalLayers));
            }
        }
    }

    @Override
    public int[] retrievalLayers() {
        return retrievalLayers.clone();
    }

    boolean isRetrievalLayer(int layer) {
        return Arrays.binarySearch(retrievalLayers, layer) >= 0;
    }

    void requireWithin(int numLayers) {
        if (memoryLayer < 0 || memoryLayer >= numLayers || retrievalLayers[retrievalLayers.length - 1] >= numLayers) {
            throw new IllegalArgumentException("MemLong layers " + this + " do not fit a model of " + numLayers + " layers");
        }
    }

    @Override
    public String toString() {
        return "memory layer " + memoryLayer + ", retrieval layers " + Arrays.toString(retrievalLayers);
    }
}
