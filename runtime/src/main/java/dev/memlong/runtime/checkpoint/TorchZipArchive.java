package dev.memlong.runtime.checkpoint;

import dev.memlong.runtime.checkpoint.PickleValues.PyDict;
import dev.memlong.runtime.checkpoint.PickleValues.PyTuple;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * One file written by {@code torch.save} (zip serialization, torch 1.6+): {@code <archive>/data.pkl} holds the
 * pickled state dict, {@code <archive>/data/<key>} the raw little-endian bytes of each storage. The pickle is read
 * once when the file is opened; storage bytes are read per tensor, only the span the tensor's view covers.
 */
final class TorchZipArchive implements AutoCloseable {

    /** A state dict's pickle is a few hundred bytes per tensor; anything this large is not one. */
    static final long MAX_PICKLE_BYTES = 64L * 1024 * 1024;

    private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_]{1,64}");

    private final Path file;
    private final ZipFile zip;
    private final String prefix;
    private final Map<String, TorchStorage> storages = new HashMap<>();
    private final Map<String, TorchTensorView> tensors;

    private TorchZipArchive(Path file, ZipFile zip) {
        this.file = file;
        this.zip = zip;
        this.prefix = findPrefix();
        checkByteOrder();
        String where = file + " (" + prefix + "data.pkl)";
        Object root = new RestrictedUnpickler(readPickle(), where, this::persistentLoad).load();
        this.tensors = stateDict(root, where);
    }

    /** Opens and unpickles {@code file}; the zip stays open for {@link #read} until {@link #close()}. */
    static TorchZipArchive open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException("missing checkpoint file " + file);
        }
        ZipFile zip;
        try {
            zip = new ZipFile(file.toFile());
        } catch (NoSuchFileException e) {
            throw new CheckpointException("missing checkpoint file " + file);
        } catch (IOException e) {
            throw new CheckpointException("cannot open " + file + " as a torch zip checkpoint (truncated, corrupt, or "
                    + "saved by torch < 1.6 without zip serialization): " + e.getMessage(), e);
        }
        try {
            return new TorchZipArchive(file, zip);
        } catch (RuntimeException e) {
            closeQuietly(zip);
            throw e;
        }
    }

    /** The state dict's tensors in pickle order. */
    Map<String, TorchTensorView> tensors() {
        return tensors;
    }

    Path file() {
        return file;
    }

    /** The view's elements, row-major and contiguous, in its stored element type (little-endian). */
    ByteBuffer read(String name, TorchTensorView view) {
        int eb = view.storage().type().elementBytes();
        long spanBytes = Math.multiplyExact(view.spanElements(), (long) eb);
        if (spanBytes > Integer.MAX_VALUE - 8 || Math.multiplyExact(view.elementCount(), 4L) > Integer.MAX_VALUE - 8) {
            throw new CheckpointException("tensor " + name + " in " + file + " is larger than 2 GiB, which this loader "
                    + "does not support");
        }
        ZipEntry entry = zip.getEntry(prefix + "data/" + view.storage().key());
        ByteBuffer span = ByteBuffer.allocateDirect((int) spanBytes).order(ByteOrder.LITTLE_ENDIAN);
        try (InputStream in = zip.getInputStream(entry)) {
            in.skipNBytes(view.offset() * eb);
            byte[] chunk = new byte[1 << 16];
            while (span.hasRemaining()) {
                int n = in.read(chunk, 0, Math.min(chunk.length, span.remaining()));
                if (n < 0) {
                    throw new IOException("storage entry ends early");
                }
                span.put(chunk, 0, n);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read tensor " + name + " (storage " + view.storage().key() + ") from "
                    + file + ": " + e.getMessage(), e);
        }
        span.flip();
        return view.isContiguous() ? span : view.gather(span, eb);
    }

    private String findPrefix() {
        String found = null;
        for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
            String name = e.nextElement().getName();
            if (name.endsWith("/data.pkl") && name.indexOf('/') == name.length() - "/data.pkl".length()) {
                if (found != null) {
                    throw new CheckpointException(file + " holds more than one pickle (" + found + "data.pkl, " + name + ")");
                }
                found = name.substring(0, name.length() - "data.pkl".length());
            }
        }
        if (found == null) {
            throw new CheckpointException(file + " is a zip but not a torch checkpoint: no <archive>/data.pkl entry");
        }
        return found;
    }

    private void checkByteOrder() {
        ZipEntry e = zip.getEntry(prefix + "byteorder");
        if (e == null) {
            return; // torch < 2.1 wrote none and was always little-endian
        }
        String order = new String(readEntry(e, 16), StandardCharsets.US_ASCII).strip();
        if (!order.equals("little")) {
            throw new CheckpointException(file + " stores " + order + "-endian storages; only little-endian is supported");
        }
    }

    private byte[] readPickle() {
        ZipEntry e = zip.getEntry(prefix + "data.pkl");
        if (e.getSize() > MAX_PICKLE_BYTES) {
            throw new CheckpointException("refused pickle " + file + ": data.pkl is " + e.getSize()
                    + " bytes, more than the " + MAX_PICKLE_BYTES + " a state dict needs");
        }
        return readEntry(e, MAX_PICKLE_BYTES);
    }

    private byte[] readEntry(ZipEntry e, long limit) {
        try (InputStream in = zip.getInputStream(e)) {
            byte[] data = in.readNBytes((int) limit + 1);
            if (data.length > limit) {
                throw new CheckpointException("refused " + file + ": entry " + e.getName() + " exceeds " + limit + " bytes");
            }
            return data;
        } catch (IOException ex) {
            throw new CheckpointException("cannot read " + e.getName() + " from " + file + ": " + ex.getMessage(), ex);
        }
    }

    /** torch's persistent id for a storage: {@code ('storage', storage_type, key, location, numel)}. */
    private TorchStorage persistentLoad(Object pid) {
        String where = "refused pickle " + file + ": persistent id ";
        if (!(pid instanceof PyTuple t) || t.size() != 5 || !"storage".equals(t.get(0))
                || !(t.get(1) instanceof TorchGlobal type) || !type.isStorage() || !(t.get(2) instanceof String key)
                || !(t.get(3) instanceof String location) || !(t.get(4) instanceof Long numel)) {
            throw new CheckpointException(where + PickleValues.describe(pid)
                    + " is not ('storage', <storage type>, key, location, numel)");
        }
        if (!STORAGE_KEY.matcher(key).matches() || numel < 0) {
            throw new CheckpointException(where + "names storage " + PickleValues.describe(key) + " of " + numel + " elements");
        }
        TorchStorage known = storages.get(key);
        if (known != null) {
            if (known.type() != type || known.numel() != numel) {
                throw new CheckpointException(where + "storage " + key + " is declared twice with different types or sizes");
            }
            return known;
        }
        ZipEntry entry = zip.getEntry(prefix + "data/" + key);
        if (entry == null) {
            throw new CheckpointException("corrupt checkpoint " + file + ": storage " + key + " has no entry "
                    + prefix + "data/" + key);
        }
        TorchStorage storage = new TorchStorage(key, type, numel, location);
        long declared;
        try {
            declared = storage.byteSize();
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + "storage " + key + " declares an impossible size " + numel);
        }
        if (entry.getSize() < declared) {
            throw new CheckpointException("truncated or corrupt checkpoint " + file + ": storage " + key + " declares "
                    + numel + " " + type.storageDtype() + " elements (" + declared + " bytes) but its entry holds "
                    + entry.getSize() + " bytes");
        }
        storages.put(key, storage);
        return storage;
    }

    private Map<String, TorchTensorView> stateDict(Object root, String where) {
        if (!(root instanceof PyDict dict)) {
            throw new CheckpointException(where + " is not a state dict: its pickle holds " + PickleValues.describe(root));
        }
        Map<String, TorchTensorView> out = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : dict.items.entrySet()) {
            if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof TorchTensorView view)) {
                throw new CheckpointException(where + " is not a flat state dict: entry " + PickleValues.describe(e.getKey())
                        + " holds " + PickleValues.describe(e.getValue()) + " instead of a tensor");
            }
            out.put(name, view);
        }
        return out;
    }

    private static void closeQuietly(ZipFile zip) {
        try {
            zip.close();
        } catch (IOException ignored) {
            // read-only
        }
    }

    @Override
    public void close() {
        closeQuietly(zip);
    }
}
