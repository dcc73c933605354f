package dev.memlong.runtime.checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code pytorch_model.bin}, or the shards of a {@code pytorch_model.bin.index.json}, as {@code torch.save(state_dict)}
 * writes them (zip serialization). The pickles are run by a restricted interpreter that accepts only what a state
 * dict holds (see {@link RestrictedUnpickler}); a file that asks for anything else is refused, never executed.
 *
 * <p>Tensors are read one at a time from their storage entries, so opening costs only the pickles. Views with
 * offsets and strides are materialized row-major; tensors sharing a storage (tied weights) each read their own view.
 * F32, F16 and BF16 storages are supported; other storages (int64 buffers, ...) are listed and refused on read.
 */
public final class PyTorchPickleCheckpoint implements WeightSource {


    private record Entry(TensorInfo info, TorchZipArchive archive, TorchTensorView view) {}

    private final List<TorchZipArchive> archives = new ArrayList<>();
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final String description;

    private PyTorchPickleCheckpoint(List<Path> files, String description) {
        this.description = description;
        try {
            for (Path file : files) {
                TorchZipArchive archive = TorchZipArchive.open(file);
                archives.add(archive);
                archive.tensors().forEach((name, view) -> add(archive, name, view));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Opens a single {@code pytorch_model.bin}. */
    public static PyTorchPickleCheckpoint openFile(Path file) {
        return new PyTorchPickleCheckpoint(List.of(file), file.toString());
    }

    /** Opens the shards listed in a {@code pytorch_model.bin.index.json}. */
    public static PyTorchPickleCheckpoint openIndex(Path indexFile) {
        ShardIndex index = ShardIndex.read(indexFile);
        PyTorchPickleCheckpoint ckpt = new PyTorchPickleCheckpoint(index.shards(), indexFile.toString());
        for (Map.Entry<String, String> f : index.weightMap().entrySet()) {
            Entry e = ckpt.entries.get(f.getKey());
            if (e == null || !e.archive().file().getFileName().toString().equals(f.getValue())) {
                ckpt.close();
                throw index.missing(f.getKey());
            }
        }
        return ckpt;
    }

    private void add(TorchZipArchive archive, String name, TorchTensorView view) {
        if (entries.containsKey(name)) {
            throw new CheckpointException("tensor " + name + " appears twice (" + entries.get(name).info().file()
                    + " and " + archive.file() + ")");
        }
        TensorDType dtype = switch (view.storage().type()) {
            case FLOAT_STORAGE -> TensorDType.F32;
            case HALF_STORAGE -> TensorDType.F16;
            case BFLOAT16_STORAGE -> TensorDType.BF16;
            default -> TensorDType.F32; // placeholder: readFloat32 refuses it with the stored type's name
        };
        TensorInfo info = new TensorInfo(name, dtype, view.shape(), archive.file().toString());
        entries.put(name, new Entry(info, archive, view));
        infos.put(name, info);
    }

    @Override
    public Map<String, TensorInfo> tensors() {
        return Collections.unmodifiableMap(infos);
    }

    @Override
    public ByteBuffer readFloat32(String name) {
        Entry e = entry(name);
        TorchGlobal type = e.view().storage().type();
        if (type != TorchGlobal.FLOAT_STORAGE && type != TorchGlobal.HALF_STORAGE && type != TorchGlobal.BFLOAT16_STORAGE) {
            throw new CheckpointException("tensor " + name + " in " + e.info().file() + " is stored in a " + type
                    + "; only F32, F16 and BF16 weights are supported");
        }
        return Float32Widening.toFloat32(e.archive().read(name, e.view()), e.info().dtype());
    }

    /**
     * The stored element type in safetensors spelling: {@code F32}, {@code F16}, {@code BF16}, or for buffers
     * {@code I64}, {@code I32}, {@code U8}, {@code BOOL}, ...
     */
    String storedDtype(String name) {
        return entry(name).view().storage().type().storageDtype();
    }

    /** The tensor's bytes in its stored element type, contiguous row-major, little-endian. */
    ByteBuffer readStored(String name) {
        Entry e = entry(name);
        if (e.view().storage().type().isUntypedStorage()) {
            throw new CheckpointException("tensor " + name + " in " + e.info().file() + " is a view of an untyped "
                    + "storage, whose element type the checkpoint does not say");
        }
        return e.archive().read(name, e.view());
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new CheckpointException("missing tensor " + name + " in " + description);
        }
        return e;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void close() {
        for (TorchZipArchive a : archives) {
            a.close();
        }
        archives.clear();
    }
}
