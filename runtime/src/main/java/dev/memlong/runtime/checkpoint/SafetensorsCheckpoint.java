package dev.memlong.runtime.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One or more {@code .safetensors} files (a single file or the shards of a {@code model.safetensors.index.json}).
 * Each tensor is memory-mapped on demand, so loading never copies the whole checkpoint into the heap.
 *
 * <p>Format: an 8-byte little-endian header length, a JSON header mapping names to dtype, shape and byte
 * offsets relative to the end of the header, then the data. Every offset is checked against the file size
 * before anything is mapped, so a truncated or corrupt file is reported instead of read past its end.
 */
public final class SafetensorsCheckpoint implements WeightSource {

    /** Headers are small (a few MB for thousands of tensors); anything larger is corrupt. */
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Entry(TensorInfo info, String storedDtype, FileChannel channel, long offset, long length) {}

    private final List<FileChannel> channels = new ArrayList<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final String description;

    private SafetensorsCheckpoint(List<Path> files, String description) {
        this.description = description;
        try {
            for (Path file : files) {
                readHeader(file);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Opens a single {@code .safetensors} file. */
    public static SafetensorsCheckpoint openFile(Path file) {
        return new SafetensorsCheckpoint(List.of(file), file.toString());
    }

    /** Opens the shards listed in a {@code model.safetensors.index.json}. */
    public static SafetensorsCheckpoint openIndex(Path indexFile) {
        ShardIndex index = ShardIndex.read(indexFile);
        SafetensorsCheckpoint ckpt = new SafetensorsCheckpoint(index.shards(), indexFile.toString());
        for (Map.Entry<String, String> listed : index.weightMap().entrySet()) {
            // in the very shard the index names: a tensor found in another one means the index and shards disagree
            Entry e = ckpt.entries.get(listed.getKey());
            if (e == null || !Path.of(e.info().file()).getFileName().toString().equals(listed.getValue())) {
                ckpt.close();
                throw index.missing(listed.getKey());
            }
        }
        return ckpt;
    }

    private void readHeader(Path file) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("missing checkpoint file " + file);
        } catch (IOException e) {
            throw new CheckpointException("cannot open checkpoint file " + file + ": " + e.getMessage(), e);
        }
        channels.add(ch);
        try {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException("truncated safetensors file " + file + ": " + size + " bytes");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
                throw new CheckpointException("corrupt safetensors file " + file + ": header length " + headerLen
                        + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8);
            JsonNode root;
            try {
                root = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new CheckpointException("corrupt safetensors header in " + file + ": " + e.getMessage(), e);
            }
            if (root == null || !root.isObject()) {
                throw new CheckpointException("corrupt safetensors header in " + file + ": not a JSON object");
            }
            long dataStart = 8 + headerLen;
            long dataSize = size - dataStart;
            for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("__metadata__")) {
                    continue;
                }
                addEntry(file, ch, f.getKey(), f.getValue(), dataStart, dataSize);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint file " + file + ": " + e.getMessage(), e);
        }
    }

    private void addEntry(Path file, FileChannel ch, String name, JsonNode node, long dataStart, long dataSize) {
        String where = "tensor " + name + " in " + file;
        JsonNode dtypeNode = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsets = node.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || !shapeNode.isArray() || offsets == null
                || !offsets.isArray() || offsets.size() != 2) {
            throw new CheckpointException("corrupt safetensors header: " + where + " lacks dtype, shape or data_offsets");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeNode.get(i).asLong(-1);
            if (shape[i] < 0) {
                throw new CheckpointException("corrupt safetensors header: " + where + " has a negative dimension");
            }
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataSize) {
            throw new CheckpointException("truncated or corrupt safetensors file: " + where + " spans bytes ["
                    + begin + ", " + end + ") but the file holds " + dataSize + " data bytes");
        }
        String stored = dtypeNode.asText();
        TensorDType dtype = switch (stored) {
            case "F32" -> TensorDType.F32;
            case "F16" -> TensorDType.F16;
            case "BF16" -> TensorDType.BF16;
            default -> null; // kept, so that a model that needs it gets a precise error
        };
        TensorInfo info = new TensorInfo(name, dtype == null ? TensorDType.F32 : dtype, shape, file.toString());
        if (dtype != null) {
            long expected;
            try {
                expected = Math.multiplyExact(info.elementCount(), dtype.bytes());
            } catch (ArithmeticException e) {
                throw new CheckpointException("corrupt safetensors header: " + where + " has shape "
                        + java.util.Arrays.toString(shape) + ", more bytes than a long can count", e);
            }
            if (expected != end - begin) {
                throw new CheckpointException("corrupt safetensors file: " + where + " is " + stored
                        + java.util.Arrays.toString(shape) + " (" + expected + " bytes) but spans " + (end - begin) + " bytes");
            }
        }
        if (entries.containsKey(name)) {
            throw new CheckpointException("tensor " + name + " appears twice (" + entries.get(name).info().file() + " and " + file + ")");
        }
        entries.put(name, new Entry(info, dtype == null ? stored : null, ch, dataStart + begin, end - begin));
        infos.put(name, info);
    }

    private static void readFully(FileChannel ch, ByteBuffer dst, long pos) throws IOException {
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos + dst.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    @Override
    public Map<String, TensorInfo> tensors() {
        return Collections.unmodifiableMap(infos);
    }

    @Override
    public ByteBuffer readFloat32(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException("missing tensor " + name + " in " + description);
        }
        if (e.storedDtype() != null) {
            throw new CheckpointException("tensor " + name + " in " + e.info().file() + " has dtype " + e.storedDtype()
                    + "; only F32, F16 and BF16 weights are supported");
        }
        if (e.length() > Integer.MAX_VALUE / 2) {
            throw new CheckpointException("tensor " + name + " in " + e.info().file() + " is larger than 1 GiB, "
                    + "which this loader does not support");
        }
        ByteBuffer raw;
        try {
            raw = e.channel().map(FileChannel.MapMode.READ_ONLY, e.offset(), e.length()).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException ex) {
            throw new CheckpointException("cannot map tensor " + name + " in " + e.info().file() + ": " + ex.getMessage(), ex);
        }
        return Float32Widening.toFloat32(raw, e.info().dtype());
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void close() {
        for (FileChannel ch : channels) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // read-only channel: nothing can be lost
            }
        }
        channels.clear();
    }
}
