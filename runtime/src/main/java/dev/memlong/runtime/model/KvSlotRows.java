package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A copy of one cache slot's rows, as bytes: every layer's keys and values and, for a MemLong cache, the memory
 * layer's pre-RoPE keys, exactly as the cache holds them (same dtype, no conversion). Putting the bytes back into
 * a slot of a cache of the same model gives a slot that continues bit for bit as the original would: this is how
 * a passivated conversation's window comes back without recomputing it (recomputing cannot be exact: the rows of a
 * window that has shifted were computed while attending to tokens that have since left it).
 *
 * <p>Layout: a header of 6 little-endian ints (layers, kvHeads, length, headDim, dtype ordinal, memory-keys flag),
 * then per layer the keys then the values as {@code [kvHeads, length, headDim]}, then the memory layer's keys; the
 * tensor bytes are in the machine's native order (rows are restored on the kind of machine that saved them).
 */
public final class KvSlotRows {

    private static final int HEADER_BYTES = 6 * Integer.BYTES;

    private KvSlotRows() {}

    /** The slot's {@code length} cached rows. */
    public static byte[] export(KvCachePool cache, int slot) {
        int length = cache.length(slot);
        NDArray first = cache.keys(0);
        int layers = layerCount(cache);
        int kvHeads = (int) first.getShape().get(1);
        int headDim = (int) first.getShape().get(3);
        boolean memoryKeys = cache.memoryLayerKeys() != null;
        int blocks = 2 * layers + (memoryKeys ? 1 : 0);
        long blockBytes = (long) kvHeads * length * headDim * first.getDataType().getNumOfBytes();
        // the cache's type, not its tensors' (a bfloat16 cache's rows sit in float16 tensors): rows restore only
        // into a cache that reads them the same way
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(HEADER_BYTES + blocks * blockBytes))
                .order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(layers).putInt(kvHeads).putInt(length).putInt(headDim).putInt(cache.type().ordinal())
                .putInt(memoryKeys ? 1 : 0);
        if (length > 0) {
            NDIndex rows = new NDIndex(slot + ", :, 0:" + length);
            for (int i = 0; i < layers; i++) {
                put(out, cache.keys(i), rows);
                put(out, cache.values(i), rows);
            }
            if (memoryKeys) {
                put(out, cache.memoryLayerKeys(), rows);
            }
        }
        return out.array();
    }

    /**
     * Writes {@code rows} (from {@link #export}) into {@code slot}, which then holds exactly those tokens.
     *
     * @throws IllegalArgumentException if the rows were taken from a cache of another shape or dtype
     */
    public static void restore(KvCachePool cache, int slot, byte[] rows) {
        ByteBuffer in = ByteBuffer.wrap(rows).order(ByteOrder.LITTLE_ENDIAN);
        NDArray first = cache.keys(0);
        DataType type = cache.type();
        DataType storage = cache.storageType();
        int layers = in.getInt();
        int kvHeads = in.getInt();
        int length = in.getInt();
        int headDim = in.getInt();
        int dtype = in.getInt();
        boolean memoryKeys = in.getInt() == 1;
        if (layers != layerCount(cache) || kvHeads != first.getShape().get(1) || headDim != first.getShape().get(3)
                || dtype != type.ordinal() || memoryKeys != (cache.memoryLayerKeys() != null)
                || length < 0 || length > cache.capacity()) {
            throw new IllegalArgumentException("saved cache rows (" + layers + " layers, " + kvHeads + " KV heads of "
                    + headDim + ", " + length + " tokens, " + DataType.values()[Math.floorMod(dtype,
                    DataType.values().length)] + ") do not fit this cache");
        }
        long blockBytes = (long) kvHeads * length * headDim * storage.getNumOfBytes();
        long expected = HEADER_BYTES + (2L * layers + (memoryKeys ? 1 : 0)) * blockBytes;
        if (rows.length != expected) {
            throw new IllegalArgumentException("saved cache rows are " + rows.length + " bytes, expected " + expected);
        }
        cache.reset(slot);
        if (length > 0) {
            Shape shape = new Shape(kvHeads, length, headDim);
            NDIndex target = new NDIndex(slot + ", :, 0:" + length);
            try (NDManager scratch = first.getManager().newSubManager()) {
                for (int i = 0; i < layers; i++) {
                    take(in, cache.keys(i), target, scratch, shape, storage, blockBytes);
                    take(in, cache.values(i), target, scratch, shape, storage, blockBytes);
                }
                if (memoryKeys) {
                    take(in, cache.memoryLayerKeys(), target, scratch, shape, storage, blockBytes);
                }
            }
        }
        cache.advance(slot, length);
    }

    private static int layerCount(KvCachePool cache) {
        return cache.layers();
    }

    private static void put(ByteBuffer out, NDArray tensor, NDIndex rows) {
        try (NDArray part = tensor.get(rows)) {
            out.put(part.toByteArray());
        }
    }

    private static void take(ByteBuffer in, NDArray tensor, NDIndex target, NDManager scratch, Shape shape,
                             DataType type, long blockBytes) {
        ByteBuffer block = ByteBuffer.allocateDirect(Math.toIntExact(blockBytes)).order(ByteOrder.nativeOrder());
        ByteBuffer slice = in.slice(in.position(), Math.toIntExact(blockBytes));
        block.put(slice).flip();
        in.position(in.position() + Math.toIntExact(blockBytes));
        NDArray rows = scratch.create(block, shape, type);
        tensor.set(target, rows);
    }
}
