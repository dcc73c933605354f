package dev.memlong.storage;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.memlong.memory.EvictionPolicy;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Settings of the storage module, read once from {@code memlong.storage} (see {@code reference.conf} for every
 * key and its meaning). Unknown keys and invalid values fail fast, naming the key.
 *
 * @param path               directory of the node's RocksDB
 * @param fsync              fsync the WAL on every committed turn
 * @param capacityTokens     default memory capacity of a new conversation, in tokens
 * @param eviction           default eviction policy of a new conversation
 * @param blockCacheBytes    RocksDB block cache size
 * @param kvCacheBytes       decoded K/V LRU cache size (0 disables it)
 * @param writeBufferBytes   memtable size per column family
 * @param maxBackgroundJobs  RocksDB background threads
 * @param minFreeDiskBytes   start-up refuses to open with less free disk than this
 */
public record StorageSettings(Path path, boolean fsync, long capacityTokens, EvictionPolicy eviction,
                              long blockCacheBytes, long kvCacheBytes, long writeBufferBytes,
                              int maxBackgroundJobs, long minFreeDiskBytes) {

    /** The config path this record is read from. */
    public static final String ROOT = "memlong.storage";

    private static final Set<String> KEYS = Set.of("path", "fsync", "capacity-tokens", "eviction",
            "block-cache-bytes", "kv-cache-bytes", "write-buffer-bytes", "max-background-jobs",
            "min-free-disk-bytes");

    public StorageSettings {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(eviction, "eviction");
        positive("capacity-tokens", capacityTokens);
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
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("unknown configuration key " + ROOT + "." + key
                        + " (known: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + ")");
            }
        }
        try {
            return new StorageSettings(Path.of(c.getString("path")), c.getBoolean("fsync"),
                    c.getLong("capacity-tokens"), policy(c.getString("eviction")),
                    c.getBytes("block-cache-bytes"), c.getBytes("kv-cache-bytes"), c.getBytes("write-buffer-bytes"),
                    c.getInt("max-background-jobs"), c.getBytes("min-free-disk-bytes"));
        } catch (ConfigException e) {
            throw invalid(e);
        }
    }

    private static IllegalArgumentException invalid(ConfigException e) {
        return new IllegalArgumentException("invalid storage configuration: " + e.getMessage(), e);
    }

    private static EvictionPolicy policy(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "frequency" -> EvictionPolicy.FREQUENCY;
            case "fifo" -> EvictionPolicy.FIFO;
            default -> throw new IllegalArgumentException(
                    ROOT + ".eviction must be \"frequency\" or \"fifo\", got \"" + value + "\"");
        };
    }

    /** A copy with another store directory. */
    public StorageSettings withPath(Path newPath) {
        return new StorageSettings(newPath, fsync, capacityTokens, eviction, blockCacheBytes, kvCacheBytes,
                writeBufferBytes, maxBackgroundJobs, minFreeDiskBytes);
    }

    /** A copy with fsync on commit switched on or off. */
    public StorageSettings withFsync(boolean on) {
        return new StorageSettings(path, on, capacityTokens, eviction, blockCacheBytes, kvCacheBytes,
                writeBufferBytes, maxBackgroundJobs, minFreeDiskBytes);
    }

    /** A copy with another default capacity and policy. */
    public StorageSettings withCapacity(long tokens, EvictionPolicy policy) {
        return new StorageSettings(path, fsync, tokens, policy, blockCacheBytes, kvCacheBytes,
                writeBufferBytes, maxBackgroundJobs, minFreeDiskBytes);
    }

    /** A copy with another K/V cache size. */
    public StorageSettings withKvCacheBytes(long bytes) {
        return new StorageSettings(path, fsync, capacityTokens, eviction, blockCacheBytes, bytes,
                writeBufferBytes, maxBackgroundJobs, minFreeDiskBytes);
    }

    /** A copy with another free-disk floor. */
    public StorageSettings withMinFreeDiskBytes(long bytes) {
        return new StorageSettings(path, fsync, capacityTokens, eviction, blockCacheBytes, kvCacheBytes,
                writeBufferBytes, maxBackgroundJobs, bytes);
    }
}
