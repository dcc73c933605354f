package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * Key/value caches for a fixed number of sequence slots: per layer one key and one value tensor of shape
 * {@code [slots, kvHeads, capacity + 1, headDim]}, written in place. A sequence owns a slot while it runs; its
 * length is tracked here. Keys are stored after RoPE; a MemLong cache also keeps the memory layer's keys before
 * RoPE, which is what memory stores.
 *
 * <p>The extra row per slot (index {@code capacity}) is a scratch row that padding tokens of a batched forward
 * write to, so that padding can never overwrite a real token.
 *
 * <p>Batched decoding is fastest when the running sequences occupy slots {@code 0..B-1} in order: attention then
 * reads a view of the cache instead of gathering it.
 */
public final class KvCachePool implements AutoCloseable {

    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int[] lengths;
    private final int capacity;
    private final MemLongLayers memLong;
    private final NDArray memoryLayerKeys; // pre-RoPE keys of the memory layer, for moving overflow to memory
    private final DataType type;

    KvCachePool(NDManager parent, int layers, int slots, int capacity, int kvHeads, int headDim, DataType type,
                MemLongLayers memLong) {
        if (slots <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("a KV cache needs at least one slot and a positive capacity");
        }
        this.manager = parent.newSubManager();
        this.capacity = capacity;
        this.lengths = new int[slots];
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        Shape shape = new Shape(slots, kvHeads, capacity + 1L, headDim);
        this.type = type;
        DataType storage = storageType();
        for (int i = 0; i < layers; i++) {
            keys[i] = manager.zeros(shape, storage);
            values[i] = manager.zeros(shape, storage);
        }
        this.memLong = memLong;
        this.memoryLayerKeys = memLong == null ? null : manager.zeros(shape, storage);
    }

    /** What the cache stores: the model's compute type, or bfloat16 under float32 compute. */
    public DataType type() {
        return type;
    }

    /**
     * The dtype of the cache's tensors. A bfloat16 cache keeps its rows' bits in float16-typed tensors: DJL 0.36's
     * PyTorch JNI aborts the process on any bfloat16 (or int16) tensor operation, zeros included, while float16 ones
     * copy their bits unchanged. Only the Java decode step ({@code Bf16Kernels}) reads and writes such rows, and
     * {@link KvSlotRows} copies them as bytes; no tensor op ever interprets them.
     */
    DataType storageType() {
        return type == DataType.BFLOAT16 ? DataType.FLOAT16 : type;
    }

    /** The MemLong layers this cache serves, or null for a plain decoder cache. */
    public MemLongLayers memLong() {
        return memLong;
    }

    /** Position of cache row 0: 1 in MemLong's "Zero" mode (memory keys sit at 0), else 0. */
    int positionOffset() {
        return memLong == null ? 0 : 1;
    }

    NDArray memoryLayerKeys() {
        return memoryLayerKeys;
    }

    void shrink(int slot, int tokens) {
        lengths[slot] -= tokens;
    }

    public int slots() {
        return lengths.length;
    }

    /** Tokens each slot can hold. */
    public int capacity() {
        return capacity;
    }

    /** Tokens cached in a slot. */
    public int length(int slot) {
        return lengths[slot];
    }

    /** Forgets a slot's tokens (the memory is reused, not freed). */
    public void reset(int slot) {
        lengths[slot] = 0;
    }

    /**
     * Drops the slot's cached tokens from {@code length} on (for example after speculative or rejected tokens).
     */
    public void truncate(int slot, int length) {
        if (length < 0 || length > lengths[slot]) {
            throw new IllegalArgumentException("cannot truncate slot " + slot + " of length " + lengths[slot] + " to " + length);
        }
        lengths[slot] = length;
    }

    void advance(int slot, int tokens) {
        lengths[slot] += tokens;
    }

    int layers() {
        return keys.length;
    }

    NDArray keys(int layer) {
        return keys[layer];
    }

    NDArray values(int layer) {
        return values[layer];
    }

    @Override
    public void close() {
        Arrays.fill(lengths, 0);
        manager.close();
    }
}
