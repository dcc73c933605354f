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
 * model); the retriever is shared and not closed here. Used by one device worker's thread only.
 */
public final class DeviceReplica implements AutoCloseable {

    private final ModelBundle bundle;
    private final MemLongEngine engine;
    private final KvCachePool cache;

    private DeviceReplica(ModelBundle bundle, MemLongEngine engine, KvCachePool cache) {
        this.bundle = bundle;
        this.engine = engine;
        this.cache = cache;
    }

    /** Loads the model onto {@code device} and allocates the cache. */
    public static DeviceReplica load(Path modelDir, Device device, DataType computeType, Retriever retriever,
                                     MemorySettings settings, int slots) {
        ModelBundle bundle = ModelBundle.open(modelDir, new ModelOptions(device, computeType));
        try {
            MemLongEngine engine = new MemLongEngine(bundle, retriever, settings);
            return new DeviceReplica(bundle, engine, engine.newCache(slots));
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

    @Override
    public void close() {
        try {
            cache.close();
        } finally {
            bundle.close();
        }
    }
}
