package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.checkpoint.Checkpoints;
import dev.memlong.runtime.checkpoint.SafetensorsCheckpoint;
import dev.memlong.runtime.checkpoint.SafetensorsWriter;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.retriever.HashingRetriever;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model version as the trainer actor publishes it: only the layers above the memory layer (merged) and the final
 * norm, swapped into a running decoder without touching its frozen part; and the held-out loss.
 */
class UpperLayersTest {

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
             Trainer trainer = new Trainer(trained, s, TrainingFixtures.documents(2, 80, 4), new HashingRetriever(),
                     tok, 1)) {
            for (int i = 0; i < 3; i++) {
                trainer.trainStep();
            }
        }
        TrainedCheckpoint.writeMerged(trained, tmp.resolve("merged"), Fixtures.hfTinyLlama(), "F32", Map.of());
        TrainedCheckpoint.writeUpperLayers(trained, MEMORY_LAYER, tmp.resolve("v1/upper.safetensors"),
                Map.of("version", "1"));
    }

    @AfterAll
    static void close() {
        trained.close();
        root.close();
    }

    @Test
    void theFileHoldsExactlyTheLayersAboveTheMemoryLayerAndTheFinalNorm() {
        try (WeightSource src = SafetensorsCheckpoint.openFile(tmp.resolve("v1/upper.safetensors"))) {
            List<String> expected = new ArrayList<>();
            for (int layer = MEMORY_LAYER + 1; layer < 4; layer++) {
                for (String t : List.of("input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                        "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                        "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight")) {
                    expected.add("model.layers." + layer + "." + t);
                }
            }
            expected.add("model.norm.weight");
            assertEquals(new TreeSet<>(expected), new TreeSet<>(src.tensors().keySet()));
        }
        assertEquals("1", TrainedCheckpoint.metadata(tmp.resolve("v1/upper.safetensors")).get("version"));
    }

    @Test
    void swappingTheUpperLayersKeepsTheFrozenArraysAndComputesTheMergedModel() {
        int[] ids = TrainingFixtures.documents(1, 24, 5).get(0);
        float[][] reference;
        try (LlamaModel merged = LlamaModel.load(tmp.resolve("merged"))) {
            reference = merged.forwardLogits(ids);
        }
        try (LlamaModel model = LlamaModel.load(Fixtures.hfTinyLlama())) {
            float[][] base = model.forwardLogits(ids);
            List<NDArray> frozen = model.frozenArrays(MEMORY_LAYER);
            List<byte[]> bytes = frozen.stream().map(NDArray::toByteArray).toList();
            try (WeightSource src = SafetensorsCheckpoint.openFile(tmp.resolve("v1/upper.safetensors"))) {
                model.replaceUpperLayers(src, MEMORY_LAYER + 1, 1);
            }
            assertEquals(1, model.version());
            List<NDArray> after = model.frozenArrays(MEMORY_LAYER);
            for (int i = 0; i < frozen.size(); i++) {
                assertSame(frozen.get(i), after.get(i), "frozen array " + i + " is the same object");
                assertArrayEquals(bytes.get(i), after.get(i).toByteArray(), "frozen array " + i + " has the same bytes");
            }
            float[][] swapped = model.forwardLogits(ids);
            for (int t = 0; t < ids.length; t++) {
                assertArrayEquals(reference[t], swapped[t], 1e-4f, "position " + t);
            }
            // a one-token decode step (the Java decoder, which holds native addresses of the weights) runs the
            // new weights too, not the freed old ones
            org.junit.jupiter.api.Assertions.assertTrue(model.javaDecode(), "the Java decode step is exercised");
            try (dev.memlong.runtime.model.KvCachePool cache = model.newCache(1, 64)) {
                model.forward(cache, List.of(new dev.memlong.runtime.model.SequenceStep(0,
                        java.util.Arrays.copyOf(ids, ids.length - 1))), false);
                float[][][] step = model.forward(cache, List.of(new dev.memlong.runtime.model.SequenceStep(0,
                        new int[] {ids[ids.length - 1]})), false);
                assertArrayEquals(reference[ids.length - 1], step[0][0], 1e-4f, "decode step after the swap");
            }
            // and back to the base (version 0: the upper layers of the base checkpoint)
            try (WeightSource src = Checkpoints.open(Fixtures.hfTinyLlama())) {
                model.replaceUpperLayers(src, MEMORY_LAYER + 1, 0);
            }
            float[][] again = model.forwardLogits(ids);
            for (int t = 0; t < ids.length; t++) {
                assertArrayEquals(base[t], again[t], 0f, "the base model's logits come back exactly");
            }
        }
    }

    @Test
    void aSourceMissingATensorReplacesNothing() {
        Path partial = tmp.resolve("partial.safetensors");
        SafetensorsWriter.write(partial, List.of(new SafetensorsWriter.Tensor("model.norm.weight", "F32",
                new long[] {64})), Map.of(), n -> TensorBytes.encode(new float[64], "F32"));
        int[] ids = {1, 2, 3, 4, 5};
        try (LlamaModel model = LlamaModel.load(Fixtures.hfTinyLlama())) {
            float[][] before = model.forwardLogits(ids);
            try (WeightSource src = SafetensorsCheckpoint.openFile(partial)) {
                CheckpointException e = assertThrows(CheckpointException.class,
                        () -> model.replaceUpperLayers(src, MEMORY_LAYER + 1, 5));
                assertTrue(e.getMessage().contains("model.layers." + (MEMORY_LAYER + 1)), e.getMessage());
            }
            assertEquals(0, model.version());
            assertArrayEquals(before[4], model.forwardLogits(ids)[4], 0f);
        }
    }

    @Test
    void loadingAVersionIntoFreshParametersGivesTheMergedValues() {
        try (ModelParameters params = ModelParameters.load(Fixtures.hfTinyLlama(), root);
             WeightSource merged = Checkpoints.open(tmp.resolve("merged"))) {
            TrainedCheckpoint.loadUpperLayers(params, MEMORY_LAYER, tmp.resolve("v1/upper.safetensors"));
            for (String name : params.baseShapes().keySet()) {
                ByteBuffer b = merged.readFloat32(name);
                float[] want = new float[b.remaining() / 4];
                b.asFloatBuffer().get(want);
                assertArrayEquals(want, params.values(name), 0f, name);
            }
        }
        try (ModelParameters params = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            assertThrows(CheckpointException.class, () -> TrainedCheckpoint.loadUpperLayers(params, 0,
                    tmp.resolve("v1/upper.safetensors")), "a file for another memory layer is refused");
        }
    }

    @Test
    void heldoutLossWithoutMemoryIsTheDecodersMeanCrossEntropy() {
        int[] doc = TrainingFixtures.documents(1, 16, 11).get(0);
        TrainingSettings noMemory = TrainingFixtures.lora(1, 1).withMode(TrainingMode.LORA_UPPER, false);
        double loss;
        try (ModelParameters params = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            HeldoutLoss.Result r = HeldoutLoss.evaluate(params, noMemory, List.of(doc), null, null);
            assertEquals(15, r.targets());
            loss = r.loss();
        }
        double sum = 0;
        try (LlamaModel model = LlamaModel.load(Fixtures.hfTinyLlama())) {
            float[][] logits = model.forwardLogits(doc);
            for (int t = 0; t + 1 < doc.length; t++) {
                double max = Double.NEGATIVE_INFINITY;
                for (float v : logits[t]) {
                    max = Math.max(max, v);
                }
                double z = 0;
                for (float v : logits[t]) {
                    z += Math.exp(v - max);
                }
                sum += max + Math.log(z) - logits[t][doc[t + 1]];
            }
        }
        assertEquals(sum / 15, loss, 1e-4);
    }

    @Test
    void heldoutLossWithRetrievalIsFiniteAndDeterministic() {
        List<int[]> docs = TrainingFixtures.documents(2, 60, 12);
        TrainingSettings s = TrainingFixtures.lora(1, 1);
        try (TextTokenizer tok = Tokenizers.open(Fixtures.hfTinyLlama());
             ModelParameters params = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            HeldoutLoss.Result a = HeldoutLoss.evaluate(params, s, docs, new HashingRetriever(), tok);
            HeldoutLoss.Result b = HeldoutLoss.evaluate(params, s, docs, new HashingRetriever(), tok);
            assertEquals(118, a.targets());
            assertTrue(Double.isFinite(a.loss()) && a.loss() > 0, "loss " + a.loss());
            assertEquals(a, b);
        }
    }
}
