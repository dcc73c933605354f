package dev.memlong.actors.scheduler;

import ai.djl.Device;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.checkpoint.Checkpoints;
import dev.memlong.runtime.checkpoint.SafetensorsCheckpoint;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.ModelOptions;
import dev.memlong.runtime.retriever.Retriever;
import java.nio.file.Path;

/**
 * A device's model replica and its KV cache of {@code slots} local windows. Owns both (closes the cache, then the
 * model); the retriever is shared and not closed here (the replica's sequences reach it through an
 * {@link EmbeddingPrefetch}). Used by one device worker's thread only.
 *
 * <p>A published model version is swapped in by {@link #serve}: only the layers above the memory layer and the final
 * norm are replaced, in place; the embedding, layers {@code 0..m} and {@code lm_head} stay the same arrays, so the
 * K/V of layers {@code 0..m} in the cache and every stored memory stay valid. The retriever is a separate model the
 * trainer never changes, so vectors prefetched before a swap stay valid after it.
 */
public final class DeviceReplica implements AutoCloseable {

    private final ModelBundle bundle;
    private final MemLongEngine engine;
    private final KvCachePool cache;
    private final Path modelDir;
    private final EmbeddingPrefetch prefetch;

    private DeviceReplica(ModelBundle bundle, MemLongEngine engine, KvCachePool cache, Path modelDir,
                          EmbeddingPrefetch prefetch) {
        this.bundle = bundle;
        this.engine = engine;
        this.cache = cache;
        this.modelDir = modelDir;
        this.prefetch = prefetch;
    }

    /** Loads the base model onto {@code device} and allocates the cache. */
    public static DeviceReplica load(Path modelDir, Device device, ModelOptions options, Retriever retriever,
                                     MemorySettings settings, int slots) {
        return load(modelDir, device, options, retriever, settings, slots, WeightVersion.BASE);
    }

    /** Loads the model onto {@code device}, serving {@code weights}, and allocates the cache. */
    public static DeviceReplica load(Path modelDir, Device device, ModelOptions options, Retriever retriever,
                                     MemorySettings settings, int slots, WeightVersion weights) {
        // the trainer lowers its own thread's intra-op threads; a device thread created after that would inherit it
        Engines.setIntraOpThreads(Engines.defaultIntraOpThreads());
        ModelBundle bundle = ModelBundle.open(modelDir, options.on(device));
        try {
            EmbeddingPrefetch prefetch = new EmbeddingPrefetch(retriever);
            MemLongEngine engine = new MemLongEngine(bundle, prefetch, settings);
            DeviceReplica replica = new DeviceReplica(bundle, engine, engine.newCache(slots), modelDir, prefetch);
            if (weights.version() != 0) {
                replica.serve(weights);
            }
            return replica;
        } catch (RuntimeException e) {
            bundle.close();
            throw e;
        }
    }

    /** The model version this replica serves now (0: the base model). */
    public long version() {
        return engine.model().version();
    }

    /**
     * Swaps {@code weights} in: replaces the layers above the memory layer and the final norm (read from the
     * version's file, or from the base checkpoint for version 0). Call it between two forwards, on the device's
     * thread; a file that cannot be read leaves the replica serving what it served.
     */
    public void serve(WeightVersion weights) {
        int firstUpper = engine.settings().memoryLayer() + 1;
        try (WeightSource src = weights.upperLayers() == null ? Checkpoints.open(modelDir)
                : SafetensorsCheckpoint.openFile(weights.upperLayers())) {
            engine.model().replaceUpperLayers(src, firstUpper, weights.version());
        } catch (RuntimeException e) {
            throw new IllegalStateException("model version " + weights.version() + " cannot be loaded from "
                    + (weights.upperLayers() == null ? modelDir : weights.upperLayers()) + ": " + e.getMessage(), e);
        }
    }

    public MemLongEngine engine() {
        return engine;
    }

    public KvCachePool cache() {
        return cache;
    }

    /** The retriever the replica's sequences embed with: vectors prepared off the device thread, else the shared one. */
    EmbeddingPrefetch prefetch() {
        return prefetch;
    }

    @Override
    public void close() {
        try {
            cache.close();
        } finally {
            bundle.close();
        }
    }
}
