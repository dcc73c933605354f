package dev.memlong.runtime.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.checkpoint.TorchSaveWriter.Storage;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.checkpoint.TorchSaveWriter.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConverterTest {

    @TempDir
    Path tmp;

    @Test
    void convertedFixtureHasIdenticalTensorsAndCopiedFiles() throws Exception {
        Path src = Fixtures.openLlamaStyleBin();
        Path out = tmp.resolve("converted");
        ModelConverter.Result result = ModelConverter.convert(src, out);
        assertEquals(out.resolve("model.safetensors"), result.weights());
        assertEquals(Files.size(result.weights()), result.bytes());
        assertTrue(result.copiedFiles().containsAll(List.of("config.json", "generation_config.json",
                "tokenizer.model", "tokenizer_config.json")), result.copiedFiles().toString());
        for (String f : result.copiedFiles()) {
            assertEquals(-1L, Files.mismatch(src.resolve(f), out.resolve(f)), f);
        }
        try (WeightSource original = Checkpoints.open(src); WeightSource converted = Checkpoints.open(out)) {
            assertInstanceOf(SafetensorsCheckpoint.class, converted);
            assertEquals(List.copyOf(original.tensors().keySet()), List.copyOf(converted.tensors().keySet()));
            assertEquals(result.tensors(), converted.tensors().size());
            for (String name : original.tensors().keySet()) {
                assertEquals(original.tensors().get(name).dtype(), converted.tensors().get(name).dtype());
                assertEquals(0, original.readFloat32(name).compareTo(converted.readFloat32(name)), name);
            }
        }
    }

    @Test
    void storedDtypesAndViewsSurviveConversion() throws Exception {
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        Storage half = Storage.f16("0", 1, 2, 3, 4, 5, 6);
        Storage bf = Storage.bf16("1", 0.5f, -8f);
        TorchSaveWriter.save(src.resolve("pytorch_model.bin"), List.of(
                new Tensor("t", half, 0, new long[] {3, 2}, new long[] {1, 3}),
                Tensor.contiguous("tied", half, 2, 3),
                Tensor.contiguous("b", bf, 2)));
        ModelConverter.convert(src, tmp.resolve("out"));
        try (WeightSource converted = Checkpoints.open(tmp.resolve("out"))) {
            assertEquals(TensorDType.F16, converted.tensors().get("t").dtype());
            assertEquals(TensorDType.BF16, converted.tensors().get("b").dtype());
            assertEquals(List.of(1f, 4f, 2f, 5f, 3f, 6f), boxed(converted.readFloat32("t")));
            assertEquals(List.of(1f, 2f, 3f, 4f, 5f, 6f), boxed(converted.readFloat32("tied")));
            assertEquals(List.of(0.5f, -8f), boxed(converted.readFloat32("b")));
        }
    }

    @Test
    void directoryWithoutPickleWeightsIsRefused() {
        assertThrows(CheckpointException.class, () -> ModelConverter.convert(tmp, tmp.resolve("out")));
    }

    private static List<Float> boxed(java.nio.ByteBuffer b) {
        float[] f = PyTorchPickleCheckpointTest.floats(b);
        Float[] out = new Float[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return List.of(out);
    }
}
