package dev.memlong.runtime.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Writes one {@code .safetensors} file: an 8-byte little-endian header length, a JSON header (padded with spaces
 * to a multiple of 8 bytes, so every tensor starts 8-byte aligned relative to the data section when sizes allow),
 * then the tensors back to back in the order given. Tensor bytes are pulled one at a time, so a checkpoint is
 * never held in memory whole. The file appears atomically: it is written beside its target and then moved.
 */
public final class SafetensorsWriter {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Map<String, Integer> ELEMENT_BYTES = Map.of("F64", 8, "F32", 4, "F16", 2, "BF16", 2,
            "I64", 8, "I32", 4, "I16", 2, "I8", 1, "U8", 1, "BOOL", 1);

    /**
     * One tensor to write.
     *
     * @param name  its name
     * @param dtype its element type in safetensors spelling ({@code F32}, {@code F16}, {@code BF16}, {@code I64}, ...)
     * @param shape its shape
     */
    public record Tensor(String name, String dtype, long[] shape) {
        public Tensor {
            shape = shape.clone();
            if (!ELEMENT_BYTES.containsKey(dtype)) {
                throw new IllegalArgumentException("unknown safetensors dtype " + dtype + " for " + name);
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        long byteSize() {
            long n = ELEMENT_BYTES.get(dtype);
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }
    }

    private SafetensorsWriter() {}

    /**
     * @param file     the file to write (replaced if it exists)
     * @param tensors  the tensors, in file order
     * @param metadata the {@code __metadata__} string map (may be empty)
     * @param bytes    gives each tensor's bytes by name: little-endian, row-major, exactly its size
     * @return bytes written
     */
    public static long write(Path file, List<Tensor> tensors, Map<String, String> metadata,
                             Function<String, ByteBuffer> bytes) {
        byte[] header = header(tensors, metadata);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            long total = 8 + header.length;
            for (Tensor t : tensors) {
                ByteBuffer data = bytes.apply(t.name()).duplicate();
                if (data.remaining() != t.byteSize()) {
                    throw new CheckpointException("tensor " + t.name() + " " + t.dtype() + Arrays.toString(t.shape)
                            + " should be " + t.byteSize() + " bytes but " + data.remaining() + " were given");
                }
                writeFully(ch, data);
                total += t.byteSize();
            }
            ch.force(true);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return total;
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort: a stale .tmp is harmless
            }
        }
    }

    private static byte[] header(List<Tensor> tensors, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Tensor t : tensors) {
            if (!names.add(t.name()) || t.name().equals("__metadata__")) {
                throw new IllegalArgumentException("duplicate or reserved tensor name " + t.name());
            }
            ObjectNode node = root.putObject(t.name());
            node.put("dtype", t.dtype());
            ArrayNode shape = node.putArray("shape");
            for (long d : t.shape) {
                shape.add(d);
            }
            ArrayNode offsets = node.putArray("data_offsets");
            offsets.add(offset);
            offset += t.byteSize();
            offsets.add(offset);
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }
}
