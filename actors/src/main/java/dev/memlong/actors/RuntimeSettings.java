package dev.memlong.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Settings of the actor runtime, read once from {@value #ROOT} (see {@code reference.conf} for every key). Unknown
 * keys and invalid values fail naming the key.
 *
 * @param model            model directory
 * @param modelId          name conversations are stored under
 * @param devices          one worker per entry
 * @param computeType      compute dtype name
 * @param maxBatch         sequences per device step (and KV cache slots per device)
 * @param maxQueue         turns waiting per device
 * @param stepTokenBudget  tokens per forward step
 * @param idleTimeout      passivation timeout
 * @param maxPendingTurns  messages waiting in one conversation
 * @param restoreTokens    tokens of recent dialogue re-read on restore, or 0 for auto
 * @param retriever        retriever name
 * @param askTimeout       timeout of history/memory/forget
 * @param shutdownTimeout  how long close waits for running turns
 */
public record RuntimeSettings(Path model, String modelId, List<String> devices, String computeType, int maxBatch,
                              int maxQueue, int stepTokenBudget, Duration idleTimeout, int maxPendingTurns,
                              int restoreTokens, String retriever, Duration askTimeout, Duration shutdownTimeout) {

    /** The config path of these settings. */
    public static final String ROOT = "memlong.runtime";
    /** Pekko dispatcher of the device workers. */
    public static final String DEVICE_DISPATCHER = ROOT + ".dispatchers.device";
    /** Pekko dispatcher of the conversation actors. */
    public static final String CONVERSATION_DISPATCHER = ROOT + ".dispatchers.conversation";
    /** Pekko dispatcher for blocking storage calls. */
    public static final String BLOCKING_DISPATCHER = ROOT + ".dispatchers.blocking";

    private static final Set<String> KEYS = Set.of("model", "model-id", "devices", "compute-type", "max-batch",
            "max-queue", "step-token-budget", "idle-timeout", "max-pending-turns", "restore-tokens", "retriever",
            "ask-timeout", "shutdown-timeout", "dispatchers");

    public RuntimeSettings {
        devices = List.copyOf(devices);
        require(!devices.isEmpty(), "devices", "must list at least one device");
        devices.forEach(DeviceNames::parse);
        require(maxBatch > 0, "max-batch", "must be positive, got " + maxBatch);
        require(maxQueue >= 0, "max-queue", "must not be negative, got " + maxQueue);
        require(stepTokenBudget >= maxBatch, "step-token-budget",
                "must be at least max-batch (" + maxBatch + "), got " + stepTokenBudget);
        require(!idleTimeout.isNegative() && !idleTimeout.isZero(), "idle-timeout", "must be positive");
        require(maxPendingTurns >= 0, "max-pending-turns", "must not be negative");
        require(restoreTokens >= 0, "restore-tokens", "must not be negative");
        require(retriever.equals("bge-small"), "retriever", "must be \"bge-small\", got \"" + retriever + "\"");
    }

    /** Reads {@value #ROOT} of {@code config} (resolved, with every module's reference.conf as fallback). */
    public static RuntimeSettings from(Config config) {
        Config c = config.withFallback(ConfigFactory.defaultReference(RuntimeSettings.class.getClassLoader()))
                .resolve().getConfig(ROOT);
        for (String key : c.root().keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown configuration key " + ROOT + "." + key + " (known: "
                        + String.join(", ", new TreeSet<>(KEYS)) + ")");
            }
        }
        String model = get("model", () -> c.getString("model"));
        require(!model.isBlank(), "model", "must name the model directory");
        String id = get("model-id", () -> c.getString("model-id"));
        Path modelDir = Path.of(model);
        String restore = get("restore-tokens", () -> c.getString("restore-tokens"));
        return new RuntimeSettings(modelDir,
                id.equals("auto") ? String.valueOf(modelDir.toAbsolutePath().normalize().getFileName()) : id,
                get("devices", () -> c.getStringList("devices")),
                get("compute-type", () -> c.getString("compute-type")),
                get("max-batch", () -> c.getInt("max-batch")),
                get("max-queue", () -> c.getInt("max-queue")),
                get("step-token-budget", () -> c.getInt("step-token-budget")),
                get("idle-timeout", () -> c.getDuration("idle-timeout")),
                get("max-pending-turns", () -> c.getInt("max-pending-turns")),
                restore.equals("auto") ? 0 : get("restore-tokens", () -> c.getInt("restore-tokens")),
                get("retriever", () -> c.getString("retriever")),
                get("ask-timeout", () -> c.getDuration("ask-timeout")),
                get("shutdown-timeout", () -> c.getDuration("shutdown-timeout")));
    }

    private interface Read<T> {
        T read();
    }

    private static <T> T get(String key, Read<T> read) {
        try {
            return read.read();
        } catch (ConfigException e) {
            throw new IllegalArgumentException("invalid configuration " + ROOT + "." + key + ": " + e.getMessage(), e);
        }
    }

    private static void require(boolean ok, String key, String problem) {
        if (!ok) {
            throw new IllegalArgumentException("invalid configuration " + ROOT + "." + key + ": " + problem);
        }
    }
}
