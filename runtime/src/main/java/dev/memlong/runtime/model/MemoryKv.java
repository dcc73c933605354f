package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Retrieved memory of one sequence, ready for the retrieval layers: the memory layer's pre-RoPE keys and its
 * values for every retrieved token, chunks in chronological order, as {@code [kvHeads, tokens, headDim]} arrays
 * in the compute dtype. Uploaded once per retrieval and reused by every decode step until the next one; the
 * owner closes it when it is replaced.
 */
public final class MemoryKv implements AutoCloseable {

    private final NDManager manager;
    final NDArray keys;
    final NDArray values;
    private final int tokens;

    MemoryKv(NDManager parent, float[] keys, float[] values, int tokens, int kvHeads, int headDim, DataType type) {
        long expected = (long) tokens * kvHeads * headDim;
        if (keys.length != expected || values.length != expected) {
            throw new IllegalArgumentException("memory K/V of " + tokens + " tokens needs " + expected
                    + " values each, got " + keys.length + " and " + values.length);
        }
        this.manager = parent.newSubManager();
        this.tokens = tokens;
        // stored as [tokens, kvHeads, headDim]; attention wants [kvHeads, tokens, headDim]
        this.keys = toLayout(manager.create(keys, new Shape(tokens, kvHeads, headDim)), type);
        this.values = toLayout(manager.create(values, new Shape(tokens, kvHeads, headDim)), type);
    }

    private static NDArray toLayout(NDArray stored, DataType type) {
        Shape s = stored.getShape();
        // flatten() of the transposed view copies into contiguous storage, so attention reads it densely
        NDArray t = stored.transpose(1, 0, 2).flatten().reshape(s.get(1), s.get(0), s.get(2)).toType(type, false);
        stored.close();
        return t;
    }

    /** Retrieved tokens. */
    public int tokens() {
        return tokens;
    }

    @Override
    public void close() {
        manager.close();
    }
}
