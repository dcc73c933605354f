package dev.memlong.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.settings.RuntimeSettings;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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

    /** Fails fast, naming memlong.model.dir, when the model directory is missing or has no usable config.json. */
    /** The MemLong layout the model's config.json declares (checked like the rest of the model directory). */
    static dev.memlong.memory.ModelMemoryLayout memoryLayout(Path modelDir) {
        try {
            return dev.memlong.runtime.config.MemoryLayoutReader.read(modelDir);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid configuration memlong.model.dir: " + modelDir.toAbsolutePath()
                    .normalize() + " is not a usable model directory: " + e.getMessage(), e);
        }
    }

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
}
