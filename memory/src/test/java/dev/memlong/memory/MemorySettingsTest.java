package dev.memlong.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemorySettingsTest {

    private static Config conf(String hocon) {
        return ConfigFactory.parseString(hocon);
    }

    private static void assertInvalid(String key, String fragment, Runnable r) {
        InvalidSettingException e = assertThrows(InvalidSettingException.class, r::run);
        assertEquals("memlong.memory." + key, e.key());
        assertTrue(e.getMessage().startsWith("memlong.memory." + key + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should contain '" + fragment + "'");
    }

    @Test
    void defaultsFollowTheSpecForOpenLlama3b() {
        MemorySettings s = MemorySettings.defaults(26, 2048);
        assertEquals(13, s.memoryLayer());
        assertEquals(List.of(13, 17, 21, 25), s.retrievalLayers());
        assertEquals(128, s.chunkSize());
        assertEquals(8, s.topK());
        assertEquals(2048, s.localWindow());
        assertEquals(1_000_000, s.capacityTokens()); // not the paper's 32k (GPU memory): banks live in RAM or on disk
        assertEquals(EvictionPolicy.FREQUENCY, s.eviction());
        assertEquals(KvDType.BF16, s.kvDType());
    }

    @Test
    void defaultsForSmallAndLongModels() {
        MemorySettings small = MemorySettings.defaults(12, 1024);
        assertEquals(6, small.memoryLayer());
        assertEquals(List.of(6, 10), small.retrievalLayers());
        assertEquals(1024, small.localWindow());
        assertEquals(2048, MemorySettings.defaults(32, 131_072).localWindow());
        // 1000 positions: min(2048, 1000) rounded down to whole pairs of 128-token chunks.
        assertEquals(768, MemorySettings.defaults(4, 1000).localWindow());
        assertEquals(List.of(0), MemorySettings.defaults(1, 512).retrievalLayers());
        assertInvalid("local-window", "no default", () -> MemorySettings.defaults(4, 200));
    }

    @Test
    void referenceConfGivesTheDefaults() {
        assertEquals(MemorySettings.defaults(26, 2048), MemorySettings.fromConfig(ConfigFactory.empty(), 26, 2048));
        assertEquals(MemorySettings.defaults(26, 2048), MemorySettings.fromConfig(ConfigFactory.load(), 26, 2048));
    }

    @Test
    void readsEveryKey() {
        MemorySettings s = MemorySettings.fromConfig(conf("""
                memlong.memory {
                  memory-layer = 3
                  retrieval-layers = [7, 3, 5]
                  chunk-size = 64
                  top-k = 4
                  local-window = 512
                  capacity-tokens = 100000
                  eviction = fifo
                  kv-dtype = fp16
                }"""), 8, 4096);
        assertEquals(new MemorySettings(3, List.of(3, 5, 7), 64, 4, 512, 100_000, EvictionPolicy.FIFO,
                KvDType.FP16), s);
    }

    @Test
    void autoValuesFollowConfiguredOnes() {
        MemorySettings s = MemorySettings.fromConfig(conf("memlong.memory { memory-layer = 2, chunk-size = 256 }"),
                12, 1000);
        assertEquals(List.of(2, 6, 10), s.retrievalLayers());
        assertEquals(512, s.localWindow());
    }

    @Test
    void unknownKeysAreErrors() {
        assertInvalid("chunk-sise", "unknown key", () -> MemorySettings.fromConfig(
                conf("memlong.memory.chunk-sise = 64"), 26, 2048));
    }

    @Test
    void wrongTypesNameTheKey() {
        assertInvalid("top-k", "", () -> MemorySettings.fromConfig(conf("memlong.memory.top-k = many"), 26, 2048));
        assertInvalid("retrieval-layers", "", () -> MemorySettings.fromConfig(
                conf("memlong.memory.retrieval-layers = [a]"), 26, 2048));
        assertInvalid("eviction", "frequency, fifo", () -> MemorySettings.fromConfig(
                conf("memlong.memory.eviction = lru"), 26, 2048));
        assertInvalid("kv-dtype", "fp16, bf16, fp32", () -> MemorySettings.fromConfig(
                conf("memlong.memory.kv-dtype = int8"), 26, 2048));
    }

    @Test
    void layersMustBeInTheModel() {
        assertInvalid("memory-layer", "26 layers", () -> MemorySettings.fromConfig(
                conf("memlong.memory.memory-layer = 26"), 26, 2048));
        assertInvalid("memory-layer", "-1 is not a layer", () -> MemorySettings.fromConfig(
                conf("memlong.memory.memory-layer = -1"), 26, 2048));
        assertInvalid("retrieval-layers", "below the memory layer", () -> MemorySettings.fromConfig(
                conf("memlong.memory.retrieval-layers = [12, 13]"), 26, 2048));
        assertInvalid("retrieval-layers", "layer 26", () -> MemorySettings.fromConfig(
                conf("memlong.memory.retrieval-layers = [13, 26]"), 26, 2048));
        assertInvalid("retrieval-layers", "ascending", () -> MemorySettings.fromConfig(
                conf("memlong.memory.retrieval-layers = [13, 13]"), 26, 2048));
        assertInvalid("retrieval-layers", "at least one", () -> MemorySettings.fromConfig(
                conf("memlong.memory.retrieval-layers = []"), 26, 2048));
    }

    @Test
    void windowMustBeWholeChunksInWholeHalves() {
        assertInvalid("local-window", "not a multiple of chunk-size 128", () -> MemorySettings.fromConfig(
                conf("memlong.memory.local-window = 1000"), 26, 2048));
        assertInvalid("local-window", "half of 384", () -> MemorySettings.fromConfig(
                conf("memlong.memory.local-window = 384"), 26, 2048));
        assertInvalid("local-window", "exceeds the model's 2048 positions", () -> MemorySettings.fromConfig(
                conf("memlong.memory.local-window = 4096"), 26, 2048));
        assertInvalid("local-window", "positive", () -> MemorySettings.fromConfig(
                conf("memlong.memory.local-window = 0"), 26, 2048));
    }

    @Test
    void sizesMustBePositive() {
        assertInvalid("chunk-size", "positive", () -> MemorySettings.fromConfig(
                conf("memlong.memory { chunk-size = 0, local-window = 256 }"), 26, 2048));
        assertInvalid("top-k", "positive", () -> MemorySettings.fromConfig(
                conf("memlong.memory.top-k = 0"), 26, 2048));
        assertInvalid("capacity-tokens", "cannot hold one chunk", () -> MemorySettings.fromConfig(
                conf("memlong.memory.capacity-tokens = 100"), 26, 2048));
    }

    @Test
    void layoutUsesTheConfiguredDtype() {
        KvLayout layout = MemorySettings.defaults(26, 2048).layout(32, 100, 384, "");
        assertEquals(new KvLayout(32, 100, KvDType.BF16, 384), layout);
    }

    @Test
    void autoTakesTheLayoutTheModelDeclaresAndExplicitValuesWin() {
        ModelMemoryLayout demo = new ModelMemoryLayout(2, List.of(3, 4, 5), 64, 6, 256);
        MemorySettings s = MemorySettings.fromConfig(conf(""), 6, 256, demo);
        assertEquals(2, s.memoryLayer());
        assertEquals(List.of(3, 4, 5), s.retrievalLayers());
        assertEquals(64, s.chunkSize());
        assertEquals(6, s.topK());
        assertEquals(256, s.localWindow());
        assertEquals(s, MemorySettings.defaults(6, 256, demo));

        // an explicit memory layer takes the formula's retrieval layers, not the model's (which assume its layer)
        MemorySettings layer1 = MemorySettings.fromConfig(conf("memlong.memory.memory-layer = 1"), 6, 256, demo);
        assertEquals(1, layer1.memoryLayer());
        assertEquals(List.of(1, 5), layer1.retrievalLayers());
        // an explicit chunk size takes the formula's window
        MemorySettings chunk32 = MemorySettings.fromConfig(conf("memlong.memory.chunk-size = 32"), 6, 2048, demo);
        assertEquals(32, chunk32.chunkSize());
        assertEquals(2048, chunk32.localWindow());
        assertEquals(8, MemorySettings.fromConfig(conf("memlong.memory.top-k = 8"), 6, 256, demo).topK());
        // a model that declares nothing keeps the formulas
        assertEquals(MemorySettings.defaults(26, 2048), MemorySettings.fromConfig(conf(""), 26, 2048, ModelMemoryLayout.NONE));
        assertEquals(0, s.nextChunks());
    }

    @Test
    void nextChunksComeFromTheModelUnlessSet() {
        ModelMemoryLayout demo = new ModelMemoryLayout(2, List.of(3, 4, 5), 32, 1, 128, 1);
        MemorySettings s = MemorySettings.fromConfig(conf(""), 6, 256, demo);
        assertEquals(1, s.nextChunks());
        assertEquals(s, MemorySettings.defaults(6, 256, demo));
        assertEquals(0, MemorySettings.fromConfig(conf("memlong.memory.next-chunks = 0"), 6, 256, demo).nextChunks());
        assertInvalid("next-chunks", "must not be negative",
                () -> MemorySettings.fromConfig(conf("memlong.memory.next-chunks = -1"), 6, 256, demo));
        assertInvalid("next-chunks", "", () -> MemorySettings.fromConfig(conf("memlong.memory.next-chunks = many"), 6, 256, demo));
        assertEquals(2, s.withNextChunks(2).nextChunks()); // which chunks are read: MemoryGatherTest, StagingBankTest
    }

    @Test
    void aDeclaredLayoutThatDoesNotFitTheModelIsAnError() {
        ModelMemoryLayout bad = new ModelMemoryLayout(7, null, null, null, null);
        assertInvalid("memory-layer", "", () -> MemorySettings.fromConfig(conf(""), 6, 256, bad));
    }
}
