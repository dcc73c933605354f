package dev.memlong.memory;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * MemLong's settings for one model, validated. Errors are {@link InvalidSettingException}s naming the key under
 * {@value #PATH} ({@code reference.conf} documents each).
 *
 * <p>The constructor checks what needs no model; {@link #requireFits} checks the layer range and the window
 * against a model, and the factories call it.
 *
 * @param memoryLayer     0-based layer whose pre-RoPE K/V is stored; layers 0..m are frozen
 * @param retrievalLayers layers that attend to memory, ascending, each in [m, L)
 * @param chunkSize       tokens per memory chunk
 * @param topK            chunks retrieved per query
 * @param localWindow     tokens kept as ordinary KV cache; overflow moves the oldest half (whole chunks) to memory
 * @param capacityTokens  tokens the bank keeps before it evicts
 * @param eviction        what a full bank removes
 * @param kvDType         encoding of stored K/V
 * @param nextChunks      chunks stored right after each retrieved one that are read with it (0 = none): the text
 *                        that continued it, so a fact cut by a chunk boundary, or stated at a chunk's end with its
 *                        acknowledgement in the next, is read whole. A model should be served as it was trained
 *                        (its {@code config.json} declares {@code next_chunks}); see {@link #withNextChunks}
 */
public record MemorySettings(int memoryLayer, List<Integer> retrievalLayers, int chunkSize, int topK, int localWindow,
                             long capacityTokens, EvictionPolicy eviction, KvDType kvDType, int nextChunks) {

    /** Settings that read the retrieved chunks alone. */
    public MemorySettings(int memoryLayer, List<Integer> retrievalLayers, int chunkSize, int topK, int localWindow,
                          long capacityTokens, EvictionPolicy eviction, KvDType kvDType) {
        this(memoryLayer, retrievalLayers, chunkSize, topK, localWindow, capacityTokens, eviction, kvDType, 0);
    }

    /** The same settings reading {@code n} following chunks with each retrieved one. */
    public MemorySettings withNextChunks(int n) {
        return new MemorySettings(memoryLayer, retrievalLayers, chunkSize, topK, localWindow, capacityTokens, eviction,
                kvDType, n);
    }

    /** Configuration path of these settings. */
    public static final String PATH = "memlong.memory";
    /**
     * The default capacity (reference.conf's {@code memlong.memory.capacity-tokens}): 1M tokens. The paper's 32k is
     * what fits in GPU memory; a bank here lives in RAM or on disk and takes memory only as it fills.
     */
    public static final long DEFAULT_CAPACITY_TOKENS = 1_000_000;
    /** The paper's capacity, 32k tokens: what training runs use (train-demo's recipe was made with it). */
    public static final long PAPER_CAPACITY_TOKENS = 32_768;
    public static final int DEFAULT_CHUNK_SIZE = 128;
    public static final int DEFAULT_TOP_K = 8;
    /** Retrieval layers default to every {@value}th layer from the memory layer up. */
    public static final int DEFAULT_RETRIEVAL_STRIDE = 4;
    public static final int DEFAULT_MAX_WINDOW = 2048;

    public MemorySettings {
        require(memoryLayer >= 0, "memory-layer", "must not be negative, got " + memoryLayer);
        if (retrievalLayers == null || retrievalLayers.isEmpty()) {
            throw new InvalidSettingException(key("retrieval-layers"), "must list at least one layer");
        }
        retrievalLayers = List.copyOf(retrievalLayers);
        for (int i = 0; i < retrievalLayers.size(); i++) {
            int layer = retrievalLayers.get(i);
            require(layer >= memoryLayer, "retrieval-layers",
                    "layer " + layer + " is below the memory layer " + memoryLayer);
            require(i == 0 || layer > retrievalLayers.get(i - 1), "retrieval-layers",
                    "must be strictly ascending, got " + retrievalLayers);
        }
        require(chunkSize > 0, "chunk-size", "must be positive, got " + chunkSize);
        require(topK > 0, "top-k", "must be positive, got " + topK);
        require(localWindow > 0, "local-window", "must be positive, got " + localWindow);
        require(localWindow % chunkSize == 0, "local-window",
                localWindow + " is not a multiple of chunk-size " + chunkSize);
        require(localWindow % (2 * chunkSize) == 0, "local-window", "half of " + localWindow
                + " is not a whole number of chunks of " + chunkSize + " (overflow moves the oldest half as whole chunks)");
        require(capacityTokens >= chunkSize, "capacity-tokens",
                capacityTokens + " cannot hold one chunk of chunk-size " + chunkSize);
        require(eviction != null, "eviction", "must be set");
        require(kvDType != null, "kv-dtype", "must be set");
        require(nextChunks >= 0, "next-chunks", "must not be negative, got " + nextChunks);
    }

    /** The defaults for a model of {@code numLayers} layers trained on {@code maxPositions} positions. */
    public static MemorySettings defaults(int numLayers, int maxPositions) {
        return defaults(numLayers, maxPositions, ModelMemoryLayout.NONE);
    }

    /** The defaults for a model, with the layout it declares taking the place of the formulas. */
    public static MemorySettings defaults(int numLayers, int maxPositions, ModelMemoryLayout model) {
        int m = model.memoryLayerOr(defaultMemoryLayer(numLayers));
        int chunk = model.chunkSizeOr(DEFAULT_CHUNK_SIZE);
        return new MemorySettings(m, model.retrievalLayers() != null ? model.retrievalLayers()
                : defaultRetrievalLayers(m, numLayers), chunk, model.topKOr(DEFAULT_TOP_K),
                model.localWindow() != null ? model.localWindow() : defaultLocalWindow(maxPositions, chunk),
                DEFAULT_CAPACITY_TOKENS, EvictionPolicy.FREQUENCY, KvDType.BF16, model.nextChunksOr(0))
                .requireFits(numLayers, maxPositions);
    }

    /**
     * Settings from {@value #PATH} of {@code config} (with this module's {@code reference.conf} as fallback),
     * {@code auto} values resolved for the model. Unknown keys are errors.
     */
    public static MemorySettings fromConfig(Config config, int numLayers, int maxPositions) {
        return fromConfig(config, numLayers, maxPositions, ModelMemoryLayout.NONE);
    }

    /** As {@link #fromConfig(Config, int, int)}, {@code auto} values taken from the model's declared layout first. */
    public static MemorySettings fromConfig(Config config, int numLayers, int maxPositions, ModelMemoryLayout model) {
        return MemorySettingsReader.read(config, numLayers, maxPositions, model);
    }

    /** floor(L / 2). */
    public static int defaultMemoryLayer(int numLayers) {
        requireModel(numLayers, 1);
        return numLayers / 2;
    }

    /** m, m + 4, m + 8, ... below L. */
    public static List<Integer> defaultRetrievalLayers(int memoryLayer, int numLayers) {
        List<Integer> layers = new ArrayList<>();
        for (int l = memoryLayer; l < numLayers; l += DEFAULT_RETRIEVAL_STRIDE) {
            layers.add(l);
        }
        return layers;
    }

    /** min(2048, maxPositions), rounded down to a multiple of {@code 2 * chunkSize}. */
    public static int defaultLocalWindow(int maxPositions, int chunkSize) {
        requireModel(1, maxPositions);
        require(chunkSize > 0, "chunk-size", "must be positive, got " + chunkSize);
        int window = Math.min(DEFAULT_MAX_WINDOW, maxPositions) / (2 * chunkSize) * (2 * chunkSize);
        require(window > 0, "local-window", "no default: the model's " + maxPositions
                + " positions hold no two chunks of chunk-size " + chunkSize);
        return window;
    }

    /**
     * Checks these settings against a model.
     *
     * @return this
     * @throws InvalidSettingException if a layer is not in [0, numLayers) or the window exceeds maxPositions
     */
    public MemorySettings requireFits(int numLayers, int maxPositions) {
        requireModel(numLayers, maxPositions);
        requireMemoryLayer(memoryLayer, numLayers);
        int last = retrievalLayers.get(retrievalLayers.size() - 1);
        require(last < numLayers, "retrieval-layers",
                "layer " + last + " is not a layer of a model with " + numLayers + " layers (0.." + (numLayers - 1) + ")");
        require(localWindow <= maxPositions, "local-window",
                localWindow + " exceeds the model's " + maxPositions + " positions");
        return this;
    }

    /** The layout of a bank embedded by the retriever {@code embedder} ({@code Retriever.id()}). */
    public KvLayout layout(int kvHeads, int headDim, int embeddingDim, String embedder) {
        return new KvLayout(kvHeads, headDim, kvDType, embeddingDim, embedder);
    }

    /** Checks that {@code memoryLayer} is a layer of a model with {@code numLayers} layers. */
    static void requireMemoryLayer(int memoryLayer, int numLayers) {
        require(memoryLayer >= 0 && memoryLayer < numLayers, "memory-layer",
                memoryLayer + " is not a layer of a model with " + numLayers + " layers (0.." + (numLayers - 1) + ")");
    }

    static String key(String name) {
        return PATH + "." + name;
    }

    private static void require(boolean ok, String name, String problem) {
        if (!ok) {
            throw new InvalidSettingException(key(name), problem);
        }
    }

    private static void requireModel(int numLayers, int maxPositions) {
        if (numLayers <= 0 || maxPositions <= 0) {
            throw new IllegalArgumentException("a model needs positive numLayers and maxPositions, got "
                    + numLayers + " and " + maxPositions);
        }
    }
}
