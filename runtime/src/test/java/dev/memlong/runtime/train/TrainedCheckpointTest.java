package dev.memlong.runtime.train;

import dev.memlong.runtime.retriever.HashingRetriever;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.checkpoint.Checkpoints;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.model.EvictedWindow;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.MemLongLayers;
import dev.memlong.runtime.model.SequenceStep;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.runtime.checkpoint.SafetensorsCheckpoint;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MemLong's invariant after a training round: the frozen part is bit-identical, so the memory layer computes
 * bit-identical K/V for the same tokens and every stored memory stays valid. Plus merged/adapter checkpoints.
 */
class TrainedCheckpointTest {

    private static final int MEMORY_LAYER = TrainingFixtures.MEMORY.memoryLayer();
    private static NDManager root;
    private static ModelParameters trained;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void trainOneRound() {
        root = Engines.pytorch().newBaseManager();
        TrainingSettings s = TrainingFixtures.lora(1, 3);
        trained = ModelParameters.load(Fixtures.hfTinyLlama(), root);
        trained.prepare(s.mode(), MEMORY_LAYER, s.lora(), s.seed());
        try (TextTokenizer tok = Tokenizers.open(Fixtures.hfTinyLlama());
             Trainer trainer = new Trainer(trained, s, TrainingFixtures.documents(2, 80, 4), new HashingRetriever(), tok)) {
            for (int i = 0; i < 3; i++) {
                trainer.trainStep();
            }
        }
        TrainedCheckpoint.writeMerged(trained, tmp.resolve("merged"), Fixtures.hfTinyLlama(), "F32",
                Map.of("base_model", "hf-tiny-llama", "memory_layer", "1", "data_range", "docs 0-1", "metrics", "{}"));
    }

    @AfterAll
    static void close() {
        trained.close();
        root.close();
    }

    private static float[] floats(WeightSource src, String name) {
        ByteBuffer b = src.readFloat32(name);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    @Test
    void embeddingsLowerLayersAndLmHeadAreBitIdenticalAndUpperLayersChanged() {
        int changed = 0;
        try (WeightSource base = Checkpoints.open(Fixtures.hfTinyLlama());
             WeightSource merged = Checkpoints.open(tmp.resolve("merged"))) {
            assertEquals(base.tensors().keySet(), merged.tensors().keySet());
            for (String name : base.tensors().keySet()) {
                int layer = ParameterNames.layerOf(name);
                boolean frozen = name.equals(ParameterNames.EMBEDDING) || name.equals(ParameterNames.LM_HEAD)
                        || (layer >= 0 && layer <= MEMORY_LAYER);
                boolean same = Arrays.equals(floats(base, name), floats(merged, name));
                if (frozen) {
                    assertTrue(same, name + " must be bit-identical");
                } else if (!same) {
                    changed++;
                }
            }
        }
        // layers 2, 3: q/k/v/o and both norms each, plus the final norm
        assertEquals(2 * 6 + 1, changed);
    }

    @Test
    void theMemoryLayerComputesBitIdenticalKvForTheSameTokens() {
        MemLongLayers layers = new MemLongLayers(MEMORY_LAYER, new int[] {1, 3});
        int[] ids = TrainingFixtures.documents(1, 40, 99).get(0);
        try (LlamaModel before = LlamaModel.load(Fixtures.hfTinyLlama());
             LlamaModel after = LlamaModel.load(tmp.resolve("merged"));
             KvCachePool c1 = before.newCache(1, 48, layers);
             KvCachePool c2 = after.newCache(1, 48, layers)) {
            before.forward(c1, List.of(new SequenceStep(0, ids)), false);
            float[] logitsAfter = after.forward(c2, List.of(new SequenceStep(0, ids)), false)[0][0];
            EvictedWindow e1 = before.shiftWindow(c1, 0, 16);
            EvictedWindow e2 = after.shiftWindow(c2, 0, 16);
            assertArrayEquals(e1.keys(), e2.keys(), 0f);
            assertArrayEquals(e1.values(), e2.values(), 0f);
            assertTrue(logitsAfter.length > 0);
        }
    }

    @Test
    void theMergedModelComputesWhatTheTrainedAdaptersCompute() {
        int[] ids = TrainingFixtures.documents(1, 20, 5).get(0);
        float[][] merged;
        try (LlamaModel model = LlamaModel.load(tmp.resolve("merged"))) {
            merged = model.forwardLogits(ids);
        }
        TrainingForward fwd = new TrainingForward(trained.config(), MEMORY_LAYER, new int[] {1, 3}, trained.lora(),
                MEMORY_LAYER + 1);
        try (NDManager m = root.newSubManager()) {
            float[] flat = fwd.forward(trained::get, m, new TrainingForward.Input(
                    Arrays.stream(ids).asLongStream().toArray(), 1, ids.length, 0, null, null)).logits().toFloatArray();
            int vocab = trained.config().vocabSize();
            for (int t = 0; t < ids.length; t++) {
                for (int v = 0; v < vocab; v++) {
                    assertEquals(flat[t * vocab + v], merged[t][v], 1e-4);
                }
            }
        }
    }

    @Test
    void anAdapterKeptSeparateReloadsToTheSameModel() {
        Path dir = tmp.resolve("adapter");
        TrainedCheckpoint.writeAdapter(trained, dir, "hf-tiny-llama", Map.of("memory_layer", "1", "step", "3"));
        assertEquals("3", TrainedCheckpoint.metadata(dir.resolve(TrainedCheckpoint.ADAPTER_FILE)).get("step"));
        assertEquals("hf-tiny-llama", TrainedCheckpoint.metadata(tmp.resolve("merged/model.safetensors")).get("base_model"));
        LoraSettings lora = TrainedCheckpoint.adapterSettings(dir);
        assertEquals(trained.lora(), lora);
        assertEquals(MEMORY_LAYER + 1, TrainedCheckpoint.firstAdaptedLayer(dir));
        try (ModelParameters fresh = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            fresh.prepare(TrainingMode.LORA_UPPER, MEMORY_LAYER, lora, 1234);
            String q3 = ParameterNames.projection(3, "q_proj");
            assertFalse(Arrays.equals(TrainedCheckpoint.mergedValues(trained, q3), TrainedCheckpoint.mergedValues(fresh, q3)));
            TrainedCheckpoint.loadAdapter(fresh, dir);
            for (String name : trained.baseShapes().keySet()) {
                assertArrayEquals(TrainedCheckpoint.mergedValues(trained, name), TrainedCheckpoint.mergedValues(fresh, name),
                        0f, name);
            }
        }
    }

    @Test
    void anAdapterOfOtherLoraSettingsIsRefused() throws Exception {
        Path dir = tmp.resolve("adapter-r4");
        TrainedCheckpoint.writeAdapter(trained, dir, "hf-tiny-llama", Map.of());
        int rank = trained.lora().rank();
        try (ModelParameters otherRank = ModelParameters.load(Fixtures.hfTinyLlama(), root);
             ModelParameters otherAlpha = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            otherRank.prepare(TrainingMode.LORA_UPPER, MEMORY_LAYER, new LoraSettings(2 * rank, trained.lora().alpha(), 0), 1);
            otherAlpha.prepare(TrainingMode.LORA_UPPER, MEMORY_LAYER, new LoraSettings(rank, 2 * trained.lora().alpha(), 0), 1);
            String q3 = ParameterNames.loraA(3, "q_proj");
            float[] before = otherRank.values(q3);
            CheckpointException e = assertThrows(CheckpointException.class, () -> TrainedCheckpoint.loadAdapter(otherRank, dir));
            assertTrue(e.getMessage().contains("rank"), e.getMessage());
            assertArrayEquals(before, otherRank.values(q3), 0f);
            e = assertThrows(CheckpointException.class, () -> TrainedCheckpoint.loadAdapter(otherAlpha, dir));
            assertTrue(e.getMessage().contains("lora_alpha"), e.getMessage());
            // a config edited to match: the tensors' shapes still tell, and are named with both shapes
            Path cfg = dir.resolve(TrainedCheckpoint.ADAPTER_CONFIG);
            java.nio.file.Files.writeString(cfg, java.nio.file.Files.readString(cfg)
                    .replace("\"r\" : " + rank, "\"r\" : " + 2 * rank));
            e = assertThrows(CheckpointException.class, () -> TrainedCheckpoint.loadAdapter(otherRank, dir));
            assertTrue(e.getMessage().contains("lora_") && e.getMessage().contains("[" + rank + ", ")
                    && e.getMessage().contains("[" + 2 * rank + ", "), e.getMessage());
        }
    }

    @Test
    void aMergedCheckpointThatCouldNotLoadIsRefusedBeforeWriting() throws Exception {
        Path noBase = tmp.resolve("merged-no-base");
        assertThrows(IllegalArgumentException.class,
                () -> TrainedCheckpoint.writeMerged(trained, noBase, null, "F32", Map.of()));
        assertFalse(java.nio.file.Files.exists(noBase.resolve("model.safetensors")));
        // a shard index left in the directory would be loaded instead of the merged file
        Path stale = tmp.resolve("merged-stale");
        java.nio.file.Files.createDirectories(stale);
        java.nio.file.Files.writeString(stale.resolve("model.safetensors.index.json"), "{\"weight_map\": {}}");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> TrainedCheckpoint.writeMerged(trained, stale, Fixtures.hfTinyLlama(), "F32", Map.of()));
        assertTrue(e.getMessage().contains("model.safetensors.index.json"), e.getMessage());
        assertFalse(java.nio.file.Files.exists(stale.resolve("model.safetensors")));
    }

    /**
     * PEFT is the reference for adapters: one that PEFT made and saved (fixtures/README.md) loads here and computes
     * the logits PEFT computed with it.
     */
    @Test
    void anAdapterMadeByPeftComputesWhatPeftComputes() throws Exception {
        Path peftDir = Fixtures.hfTinyLlamaPeftAdapter();
        JsonNode ref = Fixtures.reference(peftDir);
        int[] ids = Fixtures.ints(ref.get("ids"));
        try (ModelParameters params = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            params.prepare(TrainingMode.LORA_UPPER, MEMORY_LAYER, TrainedCheckpoint.adapterSettings(peftDir), 1);
            TrainedCheckpoint.loadAdapter(params, peftDir);
            TrainedCheckpoint.writeMerged(params, tmp.resolve("peft-merged"), Fixtures.hfTinyLlama(), "F32", Map.of());
        }
        try (LlamaModel model = LlamaModel.load(tmp.resolve("peft-merged"))) {
            float[][] logits = model.forwardLogits(ids);
            for (int t = 0; t < ids.length; t++) {
                for (int v = 0; v < logits[t].length; v++) {
                    assertEquals(ref.get("logits").get(t).get(v).asDouble(), logits[t][v], 1e-4, "position " + t);
                }
            }
        }
    }

    /** What writeAdapter writes is what PEFT writes for the same training: tensor names and the config's modules. */
    @Test
    void anAdapterWrittenHereIsNamedAndConfiguredAsPeftWritesIt() throws Exception {
        Path dir = tmp.resolve("adapter-as-peft");
        TrainedCheckpoint.writeAdapter(trained, dir, "hf-tiny-llama", Map.of());
        Path peftDir = Fixtures.hfTinyLlamaPeftAdapter();
        try (WeightSource ours = SafetensorsCheckpoint.openFile(dir.resolve(TrainedCheckpoint.ADAPTER_FILE));
             WeightSource peft = SafetensorsCheckpoint.openFile(peftDir.resolve(TrainedCheckpoint.ADAPTER_FILE))) {
            assertEquals(new TreeSet<>(peft.tensors().keySet()), new TreeSet<>(ours.tensors().keySet()));
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode ourCfg = json.readTree(Files.readString(dir.resolve(TrainedCheckpoint.ADAPTER_CONFIG)));
        JsonNode peftCfg = json.readTree(Files.readString(peftDir.resolve(TrainedCheckpoint.ADAPTER_CONFIG)));
        for (String key : List.of("modules_to_save", "target_modules", "layers_to_transform")) {
            assertTrue(ourCfg.has(key), key + " is missing from " + ourCfg);
            assertEquals(strings(peftCfg.get(key)), strings(ourCfg.get(key)), key);
        }
        for (String key : List.of("peft_type", "task_type", "r", "bias")) {
            assertEquals(peftCfg.get(key).asText(), ourCfg.get(key).asText(), key);
        }
        assertEquals(peftCfg.get("lora_alpha").asDouble(), ourCfg.get("lora_alpha").asDouble(), 0);
    }

    private static Set<String> strings(JsonNode array) {
        Set<String> out = new TreeSet<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** PEFT options that make the same tensors compute something else are refused, not loaded as plain LoRA. */
    @Test
    void peftVariantsThatComputeOtherwiseAreRefused() throws Exception {
        Map<String, String> edits = Map.of(
                "use_rslora", "\"use_rslora\": true",
                "use_dora", "\"use_dora\": true",
                "bias", "\"bias\": \"lora_only\"",
                "rank_pattern", "\"rank_pattern\": {\"q_proj\": 8}");
        try (ModelParameters params = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            params.prepare(TrainingMode.LORA_UPPER, MEMORY_LAYER, new LoraSettings(4, 8, 0), 1);
            String q3 = ParameterNames.loraA(3, "q_proj");
            float[] before = params.values(q3);
            for (Map.Entry<String, String> edit : edits.entrySet()) {
                Path dir = tmp.resolve("peft-" + edit.getKey());
                Files.createDirectories(dir);
                for (String file : List.of(TrainedCheckpoint.ADAPTER_FILE, TrainedCheckpoint.ADAPTER_CONFIG)) {
                    Files.copy(Fixtures.hfTinyLlamaPeftAdapter().resolve(file), dir.resolve(file));
                }
                Path cfg = dir.resolve(TrainedCheckpoint.ADAPTER_CONFIG);
                String text = Files.readString(cfg).replaceFirst("\"" + edit.getKey() + "\": [^,\n]+", edit.getValue());
                assertTrue(text.contains(edit.getValue()), text);
                Files.writeString(cfg, text);
                CheckpointException e = assertThrows(CheckpointException.class,
                        () -> TrainedCheckpoint.loadAdapter(params, dir));
                assertTrue(e.getMessage().contains(edit.getKey()), e.getMessage());
                assertArrayEquals(before, params.values(q3), 0f);
            }
        }
    }
}
