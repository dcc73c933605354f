package dev.memlong.runtime.checkpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes zips the way {@code torch.save(state_dict)} (torch 2.x) does, checked opcode by opcode against
 * {@code pickletools.dis} of the openllama-style-bin fixture: protocol 2, {@code collections.OrderedDict()} via
 * REDUCE, one SETITEMS of name -> {@code _rebuild_tensor_v2((persid ('storage', torch.XStorage, key, 'cpu',
 * numel)), offset, size, stride, False, OrderedDict())}, then BUILD of {@code {'_metadata': {}}}; STORED entries
 * {@code <archive>/data.pkl}, {@code .format_version}, {@code .storage_alignment}, {@code byteorder},
 * {@code data/<key>}, {@code version}.
 */
final class TorchSaveWriter {

    /** A storage: its class ({@code FloatStorage}, {@code HalfStorage}, {@code BFloat16Storage}) and raw bytes. */
    record Storage(String key, String storageClass, long numel, byte[] bytes) {
        static Storage f32(String key, float... values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                b.putFloat(v);
            }
            return new Storage(key, "FloatStorage", values.length, b.array());
        }

        static Storage f16(String key, float... values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                b.putShort(Float.floatToFloat16(v));
            }
            return new Storage(key, "HalfStorage", values.length, b.array());
        }

        /** bf16 by truncation; tests use values that bf16 holds exactly. */
        static Storage bf16(String key, float... values) {
            ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            }
            return new Storage(key, "BFloat16Storage", values.length, b.array());
        }
    }

    /** A tensor: a view of a storage. */
    record Tensor(String name, Storage storage, long offset, long[] shape, long[] stride) {
        static Tensor contiguous(String name, Storage storage, long... shape) {
            long[] stride = new long[shape.length];
            long s = 1;
            for (int i = shape.length - 1; i >= 0; i--) {
                stride[i] = s;
                s *= shape[i];
            }
            return new Tensor(name, storage, 0, shape, stride);
        }
    }

    private TorchSaveWriter() {}

    static void save(Path file, List<Tensor> tensors) throws IOException {
        Map<String, byte[]> data = new LinkedHashMap<>();
        for (Tensor t : tensors) {
            data.putIfAbsent(t.storage().key(), t.storage().bytes());
        }
        writeZip(file, archiveName(file), pickle(tensors), data);
    }

    static String archiveName(Path file) {
        String n = file.getFileName().toString();
        return n.contains(".") ? n.substring(0, n.lastIndexOf('.')) : n;
    }

    static byte[] pickle(List<Tensor> tensors) {
        PickleWriter w = new PickleWriter().proto(2);
        w.global("collections", "OrderedDict");
        int orderedDict = w.put();
        w.op(')').op('R');
        w.put();
        w.op('(');
        Integer rebuild = null;
        Map<String, Integer> storageClasses = new HashMap<>();
        Map<String, Integer> storageTuples = new HashMap<>();
        for (Tensor t : tensors) {
            w.string(t.name());
            w.put();
            if (rebuild == null) {
                w.global("torch._utils", "_rebuild_tensor_v2");
                rebuild = w.put();
            } else {
                w.get(rebuild);
            }
            w.op('(');
            Integer pid = storageTuples.get(t.storage().key());
            if (pid != null) {
                w.get(pid); // torch memoizes the persistent id tuple of a storage it has seen
            } else {
                w.op('(').string("storage");
                w.put();
                Integer cls = storageClasses.get(t.storage().storageClass());
                if (cls == null) {
                    w.global("torch", t.storage().storageClass());
                    storageClasses.put(t.storage().storageClass(), w.put());
                } else {
                    w.get(cls);
                }
                w.string(t.storage().key());
                w.put();
                w.string("cpu");
                w.put();
                w.integer(t.storage().numel());
                w.op('t');
                storageTuples.put(t.storage().key(), w.put());
            }
            w.op('Q');
            w.integer(t.offset());
            w.intTuple(t.shape());
            w.put();
            w.intTuple(t.stride());
            w.put();
            w.op(0x89);
            w.get(orderedDict).op(')').op('R');
            w.put();
            w.op('t');
            w.put();
            w.op('R');
            w.put();
        }
        w.op('u');
        w.op('}');
        w.put();
        w.string("_metadata");
        w.put();
        w.op('}');
        w.put();
        w.op('s').op('b').op('.');
        return w.bytes();
    }

    /** A zip with torch's layout around {@code pickle}; storages under {@code data/}. */
    static void writeZip(Path file, String archive, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(os)) {
            stored(zip, archive + "/data.pkl", pickle);
            stored(zip, archive + "/.format_version", "1".getBytes(StandardCharsets.US_ASCII));
            stored(zip, archive + "/.storage_alignment", "64".getBytes(StandardCharsets.US_ASCII));
            stored(zip, archive + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                stored(zip, archive + "/data/" + e.getKey(), e.getValue());
            }
            stored(zip, archive + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(bytes.length);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(bytes);
        zip.closeEntry();
    }
}
