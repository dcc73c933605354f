package dev.memlong.runtime.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.runtime.checkpoint.TorchSaveWriter.Storage;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.checkpoint.TorchSaveWriter.Tensor;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PyTorchPickleCheckpointTest {

    @TempDir
    Path tmp;

    /**
     * Every tensor of the fixture against {@code openllama-style-bin.digest.json}, which
     * {@code src/test/python/torch_bin_digest.py} computed with Python's own pickle machine (no torch): same names in
     * the same order, same shapes, and the SHA-256 of the float32 values.
     */
    @Test
    void fixtureTensorsMatchAnIndependentPythonReading() throws Exception {
        JsonNode digest;
        try (InputStream in = getClass().getResourceAsStream("openllama-style-bin.digest.json")) {
            digest = new ObjectMapper().readTree(in);
        }
        Path bin = Fixtures.openLlamaStyleBin().resolve("pytorch_model.bin");
        try (PyTorchPickleCheckpoint ckpt = PyTorchPickleCheckpoint.openFile(bin)) {
            assertEquals(digest.size(), ckpt.tensors().size());
            Iterator<String> expectedNames = digest.fieldNames();
            for (TensorInfo info : ckpt.tensors().values()) {
                String name = expectedNames.next();
                assertEquals(name, info.name(), "pickle order");
                JsonNode d = digest.get(name);
                long[] shape = new long[d.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = d.get("shape").get(i).asLong();
                }
                assertArrayEquals(shape, info.shape(), name);
                assertEquals(TensorDType.F32, info.dtype());
                ByteBuffer values = ckpt.readFloat32(name);
                assertEquals(info.elementCount() * 4, values.remaining());
                assertEquals(d.get("sha256").asText(), sha256(values), name);
                assertEquals(d.get("first").get(0).floatValue(), values.getFloat(0), name);
            }
        }
    }

    @Test
    void checkpointsOpenFindsTheBinAndPrefersSafetensors() throws Exception {
        Path src = Fixtures.openLlamaStyleBin();
        try (WeightSource w = Checkpoints.open(src)) {
            assertInstanceOf(PyTorchPickleCheckpoint.class, w);
            assertTrue(w.tensors().containsKey("lm_head.weight"));
        }
        Path both = tmp.resolve("both");
        ModelConverter.convert(src, both);
        Files.copy(src.resolve("pytorch_model.bin"), both.resolve("pytorch_model.bin"));
        try (WeightSource w = Checkpoints.open(both)) {
            assertInstanceOf(SafetensorsCheckpoint.class, w);
        }
    }

    @Test
    void shardsOfAnIndexAreReadTogether() throws Exception {
        Storage a = Storage.f32("0", 1, 2, 3, 4, 5, 6);
        Storage b = Storage.f32("0", -1, -2);
        Storage c = Storage.f32("1", 7);
        TorchSaveWriter.save(tmp.resolve("pytorch_model-00001-of-00002.bin"),
                List.of(Tensor.contiguous("w.a", a, 2, 3)));
        TorchSaveWriter.save(tmp.resolve("pytorch_model-00002-of-00002.bin"),
                List.of(Tensor.contiguous("w.b", b, 2), Tensor.contiguous("w.c", c)));
        Files.writeString(tmp.resolve("pytorch_model.bin.index.json"), """
                {"metadata": {"total_size": 36}, "weight_map": {"w.a": "pytorch_model-00001-of-00002.bin",
                 "w.b": "pytorch_model-00002-of-00002.bin", "w.c": "pytorch_model-00002-of-00002.bin"}}""");
        try (WeightSource w = Checkpoints.open(tmp)) {
            assertEquals(List.of("w.a", "w.b", "w.c"), List.copyOf(w.tensors().keySet()));
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, floats(w.readFloat32("w.a")));
            assertArrayEquals(new float[] {-1, -2}, floats(w.readFloat32("w.b")));
            assertArrayEquals(new float[] {7}, floats(w.readFloat32("w.c")));
            assertArrayEquals(new long[0], w.tensors().get("w.c").shape());
        }
        Files.writeString(tmp.resolve("pytorch_model.bin.index.json"), """
                {"weight_map": {"w.a": "pytorch_model-00002-of-00002.bin"}}""");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoints.open(tmp));
        assertTrue(e.getMessage().contains("w.a"), e.getMessage());
    }

    @Test
    void halfAndBfloat16StoragesAreWidened() throws Exception {
        float[] values = {1.5f, -2.25f, 0.099975586f, 65504f, 0f, -0f};
        float[] bfValues = {1.5f, -2.25f, 0.099609375f, 3.3895314e38f, 0f, -1e-3f};
        Path file = tmp.resolve("pytorch_model.bin");
        TorchSaveWriter.save(file, List.of(Tensor.contiguous("h", Storage.f16("0", values), 3, 2),
                Tensor.contiguous("b", Storage.bf16("1", bfValues), 6)));
        try (PyTorchPickleCheckpoint ckpt = PyTorchPickleCheckpoint.openFile(file)) {
            assertEquals(TensorDType.F16, ckpt.tensors().get("h").dtype());
            assertEquals(TensorDType.BF16, ckpt.tensors().get("b").dtype());
            assertArrayEquals(values, floats(ckpt.readFloat32("h")));
            float[] bf = floats(ckpt.readFloat32("b"));
            for (int i = 0; i < bf.length; i++) {
                assertEquals(Float.intBitsToFloat(Float.floatToRawIntBits(bfValues[i]) & 0xffff0000), bf[i]);
            }
            assertEquals(1.5f, bf[0]);
        }
    }

    @Test
    void tiedWeightsShareOneStorage() throws Exception {
        Storage shared = Storage.f32("0", 1, 2, 3, 4, 5, 6);
        Path file = tmp.resolve("pytorch_model.bin");
        TorchSaveWriter.save(file, List.of(Tensor.contiguous("model.embed_tokens.weight", shared, 3, 2),
                Tensor.contiguous("lm_head.weight", shared, 3, 2)));
        try (PyTorchPickleCheckpoint ckpt = PyTorchPickleCheckpoint.openFile(file)) {
            float[] expected = {1, 2, 3, 4, 5, 6};
            assertArrayEquals(expected, floats(ckpt.readFloat32("model.embed_tokens.weight")));
            assertArrayEquals(expected, floats(ckpt.readFloat32("lm_head.weight")));
        }
    }

    /** A transposed view, a row slice with an offset, and a column slice of one 3x4 storage. */
    @Test
    void stridedViewsAreMaterializedRowMajor() throws Exception {
        // storage as a 3x4 matrix: row r = [4r, 4r+1, 4r+2, 4r+3]
        Storage s = Storage.f32("0", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        Path file = tmp.resolve("pytorch_model.bin");
        TorchSaveWriter.save(file, List.of(
                new Tensor("transposed", s, 0, new long[] {4, 3}, new long[] {1, 4}),
                new Tensor("rows1to2", s, 4, new long[] {2, 4}, new long[] {4, 1}),
                new Tensor("column2", s, 2, new long[] {3}, new long[] {4}),
                new Tensor("broadcast", s, 5, new long[] {2, 2}, new long[] {0, 1})));
        try (PyTorchPickleCheckpoint ckpt = PyTorchPickleCheckpoint.openFile(file)) {
            assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, floats(ckpt.readFloat32("transposed")));
            assertArrayEquals(new float[] {4, 5, 6, 7, 8, 9, 10, 11}, floats(ckpt.readFloat32("rows1to2")));
            assertArrayEquals(new float[] {2, 6, 10}, floats(ckpt.readFloat32("column2")));
            assertArrayEquals(new float[] {5, 6, 5, 6}, floats(ckpt.readFloat32("broadcast")));
            assertArrayEquals(new long[] {4, 3}, ckpt.tensors().get("transposed").shape());
        }
    }

    static float[] floats(ByteBuffer b) {
        b = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getFloat(b.position() + 4 * i);
        }
        return out;
    }

    static String sha256(ByteBuffer b) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(b.duplicate());
        return HexFormat.of().formatHex(md.digest());
    }

    static Map<String, TensorInfo> tensorsOf(Path file) {
        try (PyTorchPickleCheckpoint c = PyTorchPickleCheckpoint.openFile(file)) {
            return Map.copyOf(c.tensors());
        }
    }
}
