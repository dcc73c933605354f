package dev.memlong.examples.cli;

import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.memlong.MemLongEngine;

/** MemLong settings for CLI commands: the model's defaults, with the window overridable. */
final class MemoryOptions {

    private MemoryOptions() {}

    static MemorySettings settings(ModelBundle bundle, Integer window) {
        MemorySettings d = MemLongEngine.defaultSettings(bundle);
        if (window == null) {
            return d;
        }
        int chunk = Math.min(d.chunkSize(), Math.max(1, window / 2));
        return new MemorySettings(d.memoryLayer(), d.retrievalLayers(), chunk, d.topK(), window, d.capacityTokens(),
                d.eviction(), d.kvDType(), d.nextChunks()).requireFits(bundle.model().config().numLayers(),
                bundle.model().config().maxPositionEmbeddings());
    }
}
