package dev.memlong.actors.scheduler;

import java.nio.file.Path;

/**
 * A set of weights a device can serve: version 0 is the base model as loaded from {@code memlong.model.dir}; a
 * published version replaces the layers above the memory layer (and the final norm) with those of its file.
 *
 * @param version     the model version (0: the base model)
 * @param upperLayers the version's safetensors file of the layers above the memory layer, or null for version 0
 *                    (the base checkpoint's own upper layers)
 */
public record WeightVersion(long version, Path upperLayers) {

    public WeightVersion {
        if (version < 0) {
            throw new IllegalArgumentException("negative model version " + version);
        }
        if ((version == 0) != (upperLayers == null)) {
            throw new IllegalArgumentException("version 0 is the base model (no file); version " + version
                    + " needs its file");
        }
    }

    /** The base model. */
    public static final WeightVersion BASE = new WeightVersion(0, null);
}
