package dev.memlong.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.trainer.TrainerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Settings of the actor runtime (module {@code actors}), read once from {@value #ROOT}: devices, batching,
 * passivation, timeouts and dispatchers (see {@code reference.conf} for every key). The model directory, its
 * compute dtype and the retriever are the runtime module's ({@code memlong.model}, {@code memlong.retriever},
 * read by {@link dev.memlong.runtime.settings.RuntimeSettings}); memory and storage are {@code memlong.memory} and
 * {@code memlong.storage}. Unknown keys and invalid values fail naming the key. The former root
 * {@code memlong.runtime} is refused with a pointer to where each of its keys went.
 *
 * @param modelId          name conversations are stored under ({@code auto} resolved by {@link #modelId(Path)})
 * @param devices          one worker per entry
 * @param maxBatch         sequences per device step (and KV cache slots per device)
 * @param maxQueue         turns waiting per device
 * @param stepTokenBudget  tokens per forward step
 * @param idleTimeout      passivation timeout
 * @param maxPendingTurns  messages waiting in one conversation
 * @param restoreTokens    tokens of recent dialogue re-read on restore, or 0 for auto
 * @param askTimeout       timeout of history/memory/forget
 * @param shutdownTimeout  how long close waits for running turns
 * @param asyncEmbedding   whether the retriever embeds on the embedding dispatcher (else on the device threads)
 * @param trainer          the trainer's settings ({@value TrainerSettings#ROOT})
 */
public record ActorSettings(String modelId, List<String> devices, int maxBatch, int maxQueue, int stepTokenBudget,
                            Duration idleTimeout, int maxPendingTurns, int restoreTokens, Duration askTimeout,
                            Duration shutdownTimeout, boolean asyncEmbedding, TrainerSettings trainer) {

    /** The config path of these settings. */
    public static final String ROOT = "memlong.actors";
    private static final SettingsKeys KEYS_READER = new SettingsKeys(ROOT);
    /** Where these settings lived before the model and retriever keys moved to the runtime module's sections. */
    static final String FORMER_ROOT = "memlong.runtime";
    /** Pekko dispatcher of the device workers. */
    public static final String DEVICE_DISPATCHER = ROOT + ".dispatchers.device";
    /** Pekko dispatcher of the conversation actors. */
    public static final String CONVERSATION_DISPATCHER = ROOT + ".dispatchers.conversation";
    /** Pekko dispatcher for blocking storage calls. */
    public static final String BLOCKING_DISPATCHER = ROOT + ".dispatchers.blocking";
    /** Pekko dispatcher the retriever embeds on (query and chunk texts), off the device threads. */
    public static final String EMBEDDING_DISPATCHER = ROOT + ".dispatchers.embedding";

    private static final Set<String> KEYS = Set.of("model-id", "devices", "max-batch", "max-queue",
            "step-token-budget", "idle-timeout", "max-pending-turns", "restore-tokens", "ask-timeout",
            "shutdown-timeout", "async-embedding", "dispatchers", "trainer");

    /** Keys of the former root that moved to another module's section. */
    private static final Map<String, String> MOVED = Map.of("model", "memlong.model.dir",
            "compute-type", "memlong.model.dtype", "retriever", "memlong.retriever.kind");

    public ActorSettings {
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
        // a zero or negative timeout would fail every history/memory/forget at once, or skip close()'s wait
        require(askTimeout.isPositive(), "ask-timeout", "must be positive, got " + askTimeout);
        require(shutdownTimeout.isPositive(), "shutdown-timeout", "must be positive, got " + shutdownTimeout);
        require(!modelId.isBlank(), "model-id", "must not be blank");
    }

    /** The model id conversations are stored under: the configured one, or for {@code auto} the directory's name. */
    public String modelId(Path modelDir) {
        return modelId.equals("auto") ? String.valueOf(modelDir.toAbsolutePath().normalize().getFileName()) : modelId;
    }

    /** Reads {@value #ROOT} of {@code config} (resolved, with every module's reference.conf as fallback). */
    public static ActorSettings from(Config config) {
        Config all = config.withFallback(ConfigFactory.defaultReference(ActorSettings.class.getClassLoader()))
                .resolve();
        if (all.hasPath(FORMER_ROOT)) {
            for (String key : all.getConfig(FORMER_ROOT).root().keySet()) {
                throw new IllegalArgumentException("unknown configuration key " + FORMER_ROOT + "." + key + ": "
                        + (MOVED.containsKey(key) ? "it is now " + MOVED.get(key)
                        : "the actor runtime's keys are now under " + ROOT + " (" + ROOT + "." + key + ")"));
            }
        }
        Config c = all.getConfig(ROOT);
        KEYS_READER.requireKnown(c, KEYS);
        String restore = get("restore-tokens", () -> c.getString("restore-tokens"));
        return new ActorSettings(get("model-id", () -> c.getString("model-id")),
                get("devices", () -> c.getStringList("devices")),
                get("max-batch", () -> c.getInt("max-batch")),
                get("max-queue", () -> c.getInt("max-queue")),
                get("step-token-budget", () -> c.getInt("step-token-budget")),
                get("idle-timeout", () -> c.getDuration("idle-timeout")),
                get("max-pending-turns", () -> c.getInt("max-pending-turns")),
                restore.equals("auto") ? 0 : get("restore-tokens", () -> c.getInt("restore-tokens")),
                get("ask-timeout", () -> c.getDuration("ask-timeout")),
                get("shutdown-timeout", () -> c.getDuration("shutdown-timeout")),
                get("async-embedding", () -> c.getBoolean("async-embedding")),
                TrainerSettings.from(all));
    }

    private static <T> T get(String key, SettingsKeys.Read<T> read) {
        return KEYS_READER.get(key, read);
    }

    private static void require(boolean ok, String key, String problem) {
        KEYS_READER.require(ok, key, problem);
    }
}
