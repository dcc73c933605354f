package dev.memlong.actors;

import dev.memlong.runtime.retriever.HashingRetriever;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.conversation.FaultInjector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Runtimes for tests: the tiny fixture model (4 layers), MemLong with chunk 8 and window 32 so that a few
 * sentences already overflow into memory, the hashing retriever, RocksDB without fsync in {@code <data>/rocksdb}
 * (so the trainer's versions go to {@code <data>/models}).
 */
final class TestRuntimes {

    static final HashingRetriever RETRIEVER = new HashingRetriever();

    private TestRuntimes() {}

    static Path model() {
        String prop = System.getProperty("memlong.fixtures");
        Path root = prop != null ? Paths.get(prop) : null;
        for (Path p = Paths.get("").toAbsolutePath(); root == null && p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("fixtures/hf-tiny-llama"))) {
                root = p.resolve("fixtures");
            }
        }
        return root.resolve("hf-tiny-llama");
    }

    static Config config(Path data, int devices, int maxBatch, int maxQueue, String extra) {
        String deviceList = java.util.stream.IntStream.range(0, devices).mapToObj(i -> "\"cpu:" + i + "\"")
                .collect(Collectors.joining(", "));
        return ConfigFactory.parseString("""
                memlong.model.dir = "%s"
                memlong.actors {
                  devices = [%s]
                  max-batch = %d
                  max-queue = %d
                  step-token-budget = 256
                  idle-timeout = 10m
                  shutdown-timeout = 5s
                }
                memlong.memory {
                  memory-layer = 2
                  retrieval-layers = [2, 3]
                  chunk-size = 8
                  top-k = 2
                  local-window = 32
                  kv-dtype = fp32
                }
                memlong.storage {
                  path = "%s/rocksdb"
                  fsync = false
                  min-free-disk-bytes = 0
                  block-cache-bytes = 4M
                  kv-cache-bytes = 4M
                  write-buffer-bytes = 1M
                }
                pekko.loglevel = WARNING
                %s
                """.formatted(model().toString().replace("\\", "/"), deviceList, maxBatch, maxQueue,
                data.toString().replace("\\", "/"), extra));
    }

    /** The memory settings of {@link #config} for the fixture model. */
    static dev.memlong.memory.MemorySettings memorySettings() {
        var model = dev.memlong.runtime.config.ModelConfig.load(model());
        return dev.memlong.memory.MemorySettings.fromConfig(ConfigFactory.load(config(Path.of("unused"), 1, 1, 1, "")),
                model.numLayers(), model.maxPositionEmbeddings());
    }

    static MemLongRuntime start(Path data, int devices, int maxBatch, int maxQueue) {
        return start(data, devices, maxBatch, maxQueue, "", FaultInjector.NONE);
    }

    static MemLongRuntime start(Path data, int devices, int maxBatch, int maxQueue, String extra,
                                FaultInjector faults) {
        return MemLongRuntime.builder(config(data, devices, maxBatch, maxQueue, extra)).retriever(RETRIEVER)
                .faultInjector(faults).start();
    }

    /** A message of about {@code words} words that mentions {@code fact}. */
    static String message(String fact, int words, int seed) {
        String[] vocabulary = {"the", "garden", "river", "walked", "quietly", "blue", "morning", "stone", "house",
            "bright", "under", "window", "small", "yellow", "train", "market", "old", "friend", "letter", "rain"};
        StringBuilder s = new StringBuilder(fact);
        for (int i = 0; i < words; i++) {
            s.append(' ').append(vocabulary[Math.floorMod(seed * 7 + i * 13 + i * i, vocabulary.length)]);
        }
        return s.append('.').toString();
    }

    static List<String> texts(List<Reply> replies) {
        return replies.stream().map(Reply::text).toList();
    }

    /** Waits up to 30 s for {@code latch}; false if it did not open (or the wait was interrupted). */
    static boolean await(java.util.concurrent.CountDownLatch latch) {
        try {
            return latch.await(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
