package dev.memlong.runtime.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Corrupt safetensors headers and shard indexes are refused with a {@link CheckpointException} naming the tensor. */
class SafetensorsCheckpointTest {

    @TempDir
    Path dir;

    /** A file with the given JSON header and no data. */
    private Path withHeader(String name, String header) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        return Files.write(dir.resolve(name), b.array());
    }

    @Test
    void aShapeWhoseElementCountOverflowsIsACheckpointError() throws IOException {
        Path file = withHeader("huge.safetensors",
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 4], \"data_offsets\": [0, 0]}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.openFile(file).close());
        assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains(file.toString()), e.getMessage());
        // the element count fits a long, its byte count does not
        Path bytes = withHeader("huge-bytes.safetensors",
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904], \"data_offsets\": [0, 0]}}");
        e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.openFile(bytes).close());
        assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains(bytes.toString()), e.getMessage());
    }

    @Test
    void elementCountOfAnOverflowingShapeNamesTheTensorAndFile() {
        TensorInfo info = new TensorInfo("w", TensorDType.F32, new long[] {1L << 40, 1L << 40}, "ckpt.bin");
        CheckpointException e = assertThrows(CheckpointException.class, info::elementCount);
        assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains("ckpt.bin"), e.getMessage());
    }

    private void shard(String file, String tensor) {
        SafetensorsWriter.write(dir.resolve(file), List.of(new SafetensorsWriter.Tensor(tensor, "F32", new long[] {2})),
                Map.of(), n -> ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void anIndexMustPlaceEachTensorInTheShardThatHoldsIt() throws IOException {
        shard("a.safetensors", "x");
        shard("b.safetensors", "y");
        Path good = Files.writeString(dir.resolve("good.index.json"),
                "{\"weight_map\": {\"x\": \"a.safetensors\", \"y\": \"b.safetensors\"}}");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.openIndex(good)) {
            assertEquals(2, c.tensors().size());
        }
        Path swapped = Files.writeString(dir.resolve("swapped.index.json"),
                "{\"weight_map\": {\"x\": \"b.safetensors\", \"y\": \"a.safetensors\"}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsCheckpoint.openIndex(swapped).close());
        assertTrue(e.getMessage().contains("tensor x") && e.getMessage().contains("b.safetensors"), e.getMessage());
    }
}
