package dev.memlong.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.memlong.actors.scheduler.WeightVersion;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.settings.RuntimeSettings;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.ModelVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What {@link MemLongRuntime#start} checks before and while it starts, each failing with a message that names the
 * configuration key at fault ({@code memlong.model.dir} for the model directory).
 */
final class StartupChecks {

    private StartupChecks() {}

    /** The runtime module's settings; its configuration errors become this API's (IllegalArgumentException). */
    static RuntimeSettings runtimeSettings(Config config) {
        try {
            return RuntimeSettings.from(config);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("invalid configuration " + e.getMessage(), e);
        }
    }

    /**
     * A bfloat16 KV cache is read and written by the Java decode step only, which runs on CPU devices: refused at
     * start-up, naming the key, when a configured device is a GPU (DJL would abort the process on its tensors).
     */
    static void kvCacheFitsDevices(RuntimeSettings runtime, List<String> devices) {
        if (runtime.modelOptions().kvCacheType() != ai.djl.ndarray.types.DataType.BFLOAT16) {
            return;
        }
        for (String device : devices) {
            if (DeviceNames.parse(device).isGpu()) {
                throw new IllegalArgumentException("invalid configuration memlong.model.kv-cache-dtype: bfloat16"
                        + " caches run on CPU devices only (the Java decode step), but memlong.actors.devices has \""
                        + device + "\"");
            }
        }
    }

    /** The MemLong layout the model's config.json declares (checked like the rest of the model directory). */
    static dev.memlong.memory.ModelMemoryLayout memoryLayout(Path modelDir) {
        try {
            return dev.memlong.runtime.config.MemoryLayoutReader.read(modelDir);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid configuration memlong.model.dir: " + modelDir.toAbsolutePath()
                    .normalize() + " is not a usable model directory: " + e.getMessage(), e);
        }
    }

    /** Fails fast, naming memlong.model.dir, when the model directory is missing or has no usable config.json. */
    static ModelConfig modelConfig(Path modelDir) {
        Path dir = modelDir.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("invalid configuration memlong.model.dir: " + dir
                    + " is not a directory (relative paths resolve against " + Path.of("").toAbsolutePath() + ")");
        }
        try {
            return ModelConfig.load(modelDir);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid configuration memlong.model.dir: " + dir
                    + " is not a usable model directory: " + e.getMessage(), e);
        }
    }

    static TextTokenizer tokenizer(Path modelDir) {
        try {
            return Tokenizers.open(modelDir);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid configuration memlong.model.dir: no usable tokenizer in "
                    + modelDir.toAbsolutePath().normalize() + ": " + e.getMessage(), e);
        }
    }

    static <T> T await(CompletableFuture<T> future, Duration timeout, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + ": interrupted", e);
        } catch (Exception e) {
            throw new IllegalStateException(what + " in " + timeout.toSeconds() + " s: " + e, e);
        }
    }

    /**
     * The weights the devices start with: the store's serving version of the model (0, the base model, until the
     * trainer publishes one), refused when it was trained above another memory layer or its file is gone.
     */
    static WeightVersion servingWeights(ConversationStore store, String modelId, MemorySettings memory,
                                        Path versions) {
        long serving = store.servingModelVersion(modelId);
        if (serving == 0) {
            return WeightVersion.BASE;
        }
        ModelVersion v = store.modelVersion(modelId, serving).orElseThrow(() -> new IllegalStateException(
                "the store says model version " + serving + " of " + modelId + " serves, but has no record of it"));
        Path file = versions.resolve(v.artifact());
        if (v.memoryLayer() != memory.memoryLayer()) {
            throw new IllegalStateException("model version " + serving + " was trained above memory layer "
                    + v.memoryLayer() + ", but memlong.memory.memory-layer is " + memory.memoryLayer()
                    + "; roll back to version 0 (memlong rollback --version 0) or restore the memory layer");
        }
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("model version " + serving + " of " + modelId + " serves, but its file "
                    + file + " is missing (memlong.actors.trainer.versions-dir); roll back with memlong rollback "
                    + "--version 0, or restore the file");
        }
        return new WeightVersion(serving, file);
    }
}
