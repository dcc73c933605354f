package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.checkpoint.Checkpoints;
import dev.memlong.runtime.checkpoint.SafetensorsWriter;
import dev.memlong.runtime.checkpoint.TensorInfo;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.testing.Fixtures;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged checkpoint gets a clear error naming the file and the tensor; the process stays healthy. */
class BadCheckpointTest {

    @TempDir
    Path dir;

    /** A copy of the fixture model whose weights are rewritten by {@code edit} (name -> tensor list). */
    private Path rewritten(Consumer<List<String>> removeOrRename, String replaceName, long[] replaceShape, String dtype)
            throws IOException {
        Path model = dir.resolve("model");
        Files.createDirectories(model);
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            Files.copy(Fixtures.hfTinyLlama().resolve(f), model.resolve(f));
        }
        try (WeightSource src = Checkpoints.open(Fixtures.hfTinyLlama())) {
            List<String> names = new ArrayList<>(src.tensors().keySet());
            removeOrRename.accept(names);
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            for (String n : names) {
                TensorInfo info = src.tensors().get(n);
                tensors.add(n.equals(replaceName)
                        ? new SafetensorsWriter.Tensor(n, dtype, replaceShape)
                        : new SafetensorsWriter.Tensor(n, "F32", info.shape()));
            }
            SafetensorsWriter.write(model.resolve("model.safetensors"), tensors, Map.of(), n -> {
                if (n.equals(replaceName)) {
                    long elems = 1;
                    for (long d : replaceShape) {
                        elems *= d;
                    }
                    int width = dtype.equals("I64") ? 8 : 4;
                    return ByteBuffer.allocate((int) (elems * width)).order(ByteOrder.LITTLE_ENDIAN);
                }
                return src.readFloat32(n);
            });
        }
        return model;
    }

    private static void assertRefused(Path model, String... fragments) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> LlamaModel.load(model).close());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message should name " + f + ": " + e.getMessage());
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path model = rewritten(names -> names.remove("model.layers.2.mlp.down_proj.weight"), "", new long[0], "F32");
        assertRefused(model, "model.layers.2.mlp.down_proj.weight", "missing");
    }

    @Test
    void tensorOfTheWrongShapeIsNamedWithBothShapes() throws IOException {
        Path model = rewritten(names -> { }, "model.layers.1.self_attn.k_proj.weight", new long[] {16, 64}, "F32");
        assertRefused(model, "model.layers.1.self_attn.k_proj.weight", "[16, 64]", "[32, 64]");
    }

    @Test
    void tensorOfAnUnsupportedDtypeIsNamed() throws IOException {
        Path model = rewritten(names -> { }, "model.norm.weight", new long[] {64}, "I64");
        assertRefused(model, "model.norm.weight", "I64");
    }

    @Test
    void truncatedOrCorruptFilesAreNamed() throws IOException {
        Path model = rewritten(names -> { }, "", new long[0], "F32");
        Path weights = model.resolve("model.safetensors");
        long size = Files.size(weights);
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.setLength(size - 1000);
        }
        assertRefused(model, "model.safetensors", "truncated");
        try (RandomAccessFile f = new RandomAccessFile(weights.toFile(), "rw")) {
            f.seek(0);
            f.write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0});
        }
        assertRefused(model, "model.safetensors", "header length");
        Files.writeString(weights, "");
        assertRefused(model, "model.safetensors");
        Files.delete(weights);
        assertRefused(model, "no weights");
    }

    @Test
    void theProcessKeepsServingAfterBadCheckpoints() throws IOException {
        missingTensorIsNamed();
        try (LlamaModel good = LlamaModel.load(Fixtures.hfTinyLlama())) {
            assertEquals(600, good.forwardLogits(new int[] {1, 2, 3})[2].length);
        }
    }
}
