package dev.memlong.actors.trainer;

import com.typesafe.config.Config;
import dev.memlong.actors.SettingsKeys;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.train.LoraSettings;
import dev.memlong.runtime.train.TrainingMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/**
 * Settings of the trainer, read once from {@value #ROOT} (every key is commented in {@code reference.conf}).
 * Unknown keys and invalid values fail naming the key, as the other settings of the actor runtime do.
 *
 * @param automatic        whether rounds start by themselves (every-tokens / every); rounds on demand run anyway
 * @param everyTokens      dialogue tokens committed since the last round that start a round (0: never by tokens)
 * @param every            time since the last round that starts one (zero: never by time)
 * @param minTokens        a round with fewer training tokens than this is skipped and its data waits
 * @param heldoutFraction  share of conversations held out (by a hash of their key) to measure the loss on
 * @param tolerance        relative worsening of the held-out loss still published: after <= before * (1 + tolerance)
 * @param mode             {@link TrainingMode#LORA_UPPER} or {@link TrainingMode#FULL_UPPER}
 * @param lora             adapter shape (lora mode)
 * @param learningRate     peak learning rate
 * @param warmupSteps      warm-up steps of each round
 * @param weightDecay      AdamW weight decay
 * @param clipNorm         gradient clipping norm (0: none)
 * @param epochs           passes over a round's training tokens
 * @param maxSteps         optimizer steps per round at most
 * @param batchSlots       documents read side by side per step
 * @param segmentLength    tokens per slot per step, or 0 for auto
 * @param retrieval        MemLong retrieval in the training loop
 * @param threads          PyTorch intra-op threads of the trainer's threads
 * @param dutyCycle        share of wall time the trainer computes (1: no pause)
 * @param versionsDir      where versions' files go, or null for auto
 * @param maxRestarts      restarts of a round whose conversations were forgotten or opted out meanwhile
 * @param seed             seed of every round (mixed with the version number)
 */
public record TrainerSettings(boolean automatic, long everyTokens, Duration every, long minTokens,
                              double heldoutFraction, double tolerance, TrainingMode mode, LoraSettings lora,
                              double learningRate, int warmupSteps, double weightDecay, double clipNorm, double epochs,
                              int maxSteps, int batchSlots, int segmentLength, boolean retrieval, int threads,
                              double dutyCycle, Path versionsDir, int maxRestarts, long seed) {

    /** The config path of these settings. */
    public static final String ROOT = "memlong.actors.trainer";
    private static final SettingsKeys KEYS_READER = new SettingsKeys(ROOT);

    private static final Set<String> KEYS = Set.of("automatic", "every-tokens", "every", "min-tokens",
            "heldout-fraction", "tolerance", "mode", "lora", "learning-rate", "warmup-steps", "weight-decay",
            "clip-norm", "epochs", "max-steps", "batch-slots", "segment-length", "retrieval", "threads", "duty-cycle",
            "versions-dir", "max-restarts", "seed");
    private static final Set<String> LORA_KEYS = Set.of("rank", "alpha", "dropout");

    public TrainerSettings {
        require(everyTokens >= 0, "every-tokens", "must not be negative, got " + everyTokens);
        require(!every.isNegative(), "every", "must not be negative");
        require(minTokens >= 1, "min-tokens", "must be at least 1, got " + minTokens);
        require(heldoutFraction > 0 && heldoutFraction < 1, "heldout-fraction",
                "must be within (0, 1), got " + heldoutFraction);
        require(tolerance >= 0 && Double.isFinite(tolerance), "tolerance", "must be >= 0, got " + tolerance);
        require(mode.keepsMemoryValid(), "mode", "full-all would change the layers whose K/V the memory banks "
                + "store; use lora or full-upper");
        require(learningRate > 0 && Double.isFinite(learningRate), "learning-rate", "must be positive");
        require(warmupSteps >= 0, "warmup-steps", "must not be negative");
        require(weightDecay >= 0, "weight-decay", "must not be negative");
        require(clipNorm >= 0, "clip-norm", "must not be negative");
        require(epochs > 0 && Double.isFinite(epochs), "epochs", "must be positive");
        require(maxSteps >= 1, "max-steps", "must be at least 1");
        require(batchSlots >= 1, "batch-slots", "must be at least 1");
        require(segmentLength >= 0, "segment-length", "must be positive or auto");
        require(threads >= 1, "threads", "must be at least 1, got " + threads);
        require(dutyCycle > 0 && dutyCycle <= 1, "duty-cycle", "must be within (0, 1], got " + dutyCycle);
        require(maxRestarts >= 0, "max-restarts", "must not be negative");
    }

    /** Reads {@value #ROOT} of a resolved config (with the module's reference.conf as fallback). */
    public static TrainerSettings from(Config all) {
        Config c = all.getConfig(ROOT);
        KEYS_READER.requireKnown(c, KEYS);
        Config l = get("lora", () -> c.getConfig("lora"));
        new SettingsKeys(ROOT + ".lora").requireKnown(l, LORA_KEYS);
        LoraSettings lora;
        try {
            lora = new LoraSettings(get("lora.rank", () -> l.getInt("rank")),
                    (float) (double) get("lora.alpha", () -> l.getDouble("alpha")),
                    (float) (double) get("lora.dropout", () -> l.getDouble("dropout")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid configuration " + ROOT + ".lora: " + e.getMessage(), e);
        }
        TrainingMode mode;
        try {
            mode = TrainingMode.parse(get("mode", () -> c.getString("mode")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid configuration " + ROOT + ".mode: " + e.getMessage(), e);
        }
        String segment = get("segment-length", () -> c.getString("segment-length"));
        String dir = get("versions-dir", () -> c.getString("versions-dir"));
        return new TrainerSettings(get("automatic", () -> c.getBoolean("automatic")),
                get("every-tokens", () -> c.getLong("every-tokens")),
                get("every", () -> c.getDuration("every")),
                get("min-tokens", () -> c.getLong("min-tokens")),
                get("heldout-fraction", () -> c.getDouble("heldout-fraction")),
                get("tolerance", () -> c.getDouble("tolerance")),
                mode, lora,
                get("learning-rate", () -> c.getDouble("learning-rate")),
                get("warmup-steps", () -> c.getInt("warmup-steps")),
                get("weight-decay", () -> c.getDouble("weight-decay")),
                get("clip-norm", () -> c.getDouble("clip-norm")),
                get("epochs", () -> c.getDouble("epochs")),
                get("max-steps", () -> c.getInt("max-steps")),
                get("batch-slots", () -> c.getInt("batch-slots")),
                segment.equals("auto") ? 0 : get("segment-length", () -> c.getInt("segment-length")),
                get("retrieval", () -> c.getBoolean("retrieval")),
                get("threads", () -> c.getInt("threads")),
                get("duty-cycle", () -> c.getDouble("duty-cycle")),
                dir.equals("auto") ? null : Path.of(dir),
                get("max-restarts", () -> c.getInt("max-restarts")),
                get("seed", () -> c.getLong("seed")));
    }

    /**
     * Where versions' files go: {@code versions-dir}, or for {@code auto} the directory {@code models} beside the
     * store's directory ({@code <data>/models} when the store is {@code <data>/rocksdb}).
     */
    public Path versionsDir(Path storePath) {
        if (versionsDir != null) {
            return versionsDir;
        }
        Path parent = storePath.toAbsolutePath().normalize().getParent();
        return (parent != null ? parent : storePath.toAbsolutePath()).resolve("models");
    }

    /**
     * Tokens per slot per step: {@code segment-length}, or for auto the local window (at most 1024) rounded down to
     * whole memory chunks. With retrieval it must be a multiple of the chunk size.
     */
    public int segmentLength(MemorySettings memory) {
        int chunk = memory.chunkSize();
        if (segmentLength > 0) {
            require(!retrieval || segmentLength % chunk == 0, "segment-length", segmentLength
                    + " is not a multiple of memlong.memory.chunk-size (" + chunk + ")");
            return segmentLength;
        }
        return Math.max(chunk, Math.min(1024, memory.localWindow()) / chunk * chunk);
    }

    /** PyTorch threads the trainer keeps busy on average: {@code threads x duty-cycle}. */
    public double cpuShare() {
        return threads * dutyCycle;
    }


    private static <T> T get(String key, SettingsKeys.Read<T> read) {
        return KEYS_READER.get(key, read);
    }

    private static void require(boolean ok, String key, String problem) {
        KEYS_READER.require(ok, key, problem);
    }
}
