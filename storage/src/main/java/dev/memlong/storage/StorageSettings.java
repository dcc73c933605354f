package dev.memlong.storage;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Settings of the storage module, read once from {@code memlong.storage} (see {@code reference.conf} for every
 * key and its meaning). Unknown keys and invalid values fail fast, naming the key.
 *
 * <p>A new conversation's memory capacity and eviction policy are not storage settings: they are
 * {@code memlong.memory.capacity-tokens} and {@code memlong.memory.eviction}, the same for in-memory and persisted
 * banks, passed in each {@link ConversationSpec} and stored with the conversation.
 *
 * @param path               directory of the node's RocksDB
 * @param fsync              fsync the WAL on every committed turn
 * @param blockCacheBytes    RocksDB block cache size
 * @param kvCacheBytes       decoded K/V LRU cache size (0 disables it)
 * @param writeBufferBytes   memtable size per column family
 * @param maxBackgroundJobs  RocksDB background threads
 * @param minFreeDiskBytes   start-up refuses to open with less free disk than this
 */
public record StorageSettings(Path path, boolean fsync, long blockCacheBytes, long kvCacheBytes, long writeBufferBytes,
                              int maxBackgroundJobs, long minFreeDiskBytes) {

    /** The config path this record is read from. */
    public static final String ROOT = "memlong.storage";

    private static final Set<String> KEYS = Set.of("path", "fsync", "block-cache-bytes", "kv-cache-bytes",
            "write-buffer-bytes", "max-background-jobs", "min-free-disk-bytes");

    /** Keys this block had once, and the one that now holds each setting. */
    private static final Map<String, String> MOVED = Map.of(
            "capacity-tokens", "memlong.memory.capacity-tokens",
            "eviction", "memlong.memory.eviction");

    public StorageSettings {
        Objects.requireNonNull(path, "path");
        positive("block-cache-bytes", blockCacheBytes);
        positive("write-buffer-bytes", writeBufferBytes);
        positive("max-background-jobs", maxBackgroundJobs);
        if (kvCacheBytes < 0 || minFreeDiskBytes < 0) {
            throw new IllegalArgumentException(ROOT + ".kv-cache-bytes and min-free-disk-bytes must be >= 0");
        }
    }

    private static void positive(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(ROOT + "." + key + " must be positive, got " + value);
        }
    }

    /** The defaults of {@code reference.conf}. */
    public static StorageSettings defaults() {
        return from(ConfigFactory.defaultReference());
    }

    /** Reads {@code memlong.storage} of {@code config}, falling back to {@code reference.conf} for missing keys. */
    public static StorageSettings from(Config config) {
        Config c;
        try {
            c = config.withFallback(ConfigFactory.defaultReference()).getConfig(ROOT);
        } catch (ConfigException e) { // e.g. memlong.storage = "x": the message names the key and what it holds
            throw invalid(e);
        }
        for (String key : c.root().keySet()) {
            if (MOVED.containsKey(key)) { // a config written for an older build: say where the setting went
                throw new IllegalArgumentException(ROOT + "." + key + " is no longer read: set " + MOVED.get(key)
                        + " instead (it applies to every new conversation; existing ones keep what they were"
                        + " created with)");
            }
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown configuration key " + ROOT + "." + key
                        + " (known: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
            }
        }
        try {
            return new StorageSettings(Path.of(c.getString("path")), c.getBoolean("fsync"),
                    c.getBytes("block-cache-bytes"), c.getBytes("kv-cache-bytes"), c.getBytes("write-buffer-bytes"),
                    c.getInt("max-background-jobs"), c.getBytes("min-free-disk-bytes"));
        } catch (ConfigException e) {
            throw invalid(e);
        }
    }

    private static IllegalArgumentException invalid(ConfigException e) {
        return new IllegalArgumentException("invalid storage configuration: " + e.getMessage(), e);
    }

    /** A copy with another store directory. */
    public StorageSettings withPath(Path newPath) {
        return new StorageSettings(newPath, fsync, blockCacheBytes, kvCacheBytes,
                writeBufferBytes, maxBackgroundJobs, minFreeDiskBytes);
    }

    /** A copy with fsync on commit switched on or off. */
    public StorageSettings withFsync(boolean on) {
        return new StorageSettings(path, on, blockCacheBytes, kvCacheBytes,
                writeBufferBytes, maxBackgroundJobs, minFreeDiskBytes);
    }

    /** A copy with another K/V cache size. */
    public StorageSettings withKvCacheBytes(long bytes) {
        return new StorageSettings(path, fsync, blockCacheBytes, bytes,
                writeBufferBytes, maxBackgroundJobs, minFreeDiskBytes);
    }

    /** A copy with another free-disk floor. */
    public StorageSettings withMinFreeDiskBytes(long bytes) {
        return new StorageSettings(path, fsync, blockCacheBytes, kvCacheBytes,
                writeBufferBytes, maxBackgroundJobs, bytes);
    }
}
