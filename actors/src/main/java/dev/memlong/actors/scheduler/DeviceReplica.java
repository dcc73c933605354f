package dev.memlong.actors.scheduler;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.ModelOptions;
import dev.memlong.runtime.retriever.Retriever;
import java.nio.file.Path;

/**
 * A device's model replica and its KV cache of {@code slots} local windows. Owns both (closes the cache, then the
 * model); the retriever is shared and not closed here (the replica's sequences reach it through an
 * {@link EmbeddingPrefetch}). Used by one device worker's thread only.
 */
public final class DeviceReplica implements AutoCloseable {

    private final ModelBundle bundle;
    private final MemLongEngine engine;
    private final KvCachePool cache;
    private final EmbeddingPrefetch prefetch;

    private DeviceReplica(ModelBundle bundle, MemLongEngine engine, KvCachePool cache, EmbeddingPrefetch prefetch) {
        this.bundle = bundle;
        this.engine = engine;
        this.cache = cache;
        this.prefetch = prefetch;
    }

    /** Loads the model onto {@code device} and allocates the cache. */
    public static DeviceReplica load(Path modelDir, Device device, DataType computeType, Retriever retriever,
                                     MemorySettings settings, int slots) {
        ModelBundle bundle = ModelBundle.open(modelDir, new ModelOptions(device, computeType));
        try {
            EmbeddingPrefetch prefetch = new EmbeddingPrefetch(retriever);
            MemLongEngine engine = new MemLongEngine(bundle, prefetch, settings);
            return new DeviceReplica(bundle, engine, engine.newCache(slots), prefetch);
        } catch (RuntimeException e) {
            bundle.close();
            throw e;
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
