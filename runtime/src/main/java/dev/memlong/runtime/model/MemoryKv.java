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
        // stored as [tokens, kvHeads, headDim]; attention wants [kvHeads, tokens, headDim], densely
        this.keys = toLayout(manager, headMajor(keys, tokens, kvHeads, headDim), tokens, kvHeads, headDim, type);
        this.values = toLayout(manager, headMajor(values, tokens, kvHeads, headDim), tokens, kvHeads, headDim, type);
    }

    /**
     * Reorders token-major K/V to head-major in Java. (It was a transposed view flattened on the tensor side and the
     * original closed; with one KV head or one token the transpose is already contiguous, flatten returned a view,
     * and closing the original let its Java buffer be freed under the view.)
     */
    private static float[] headMajor(float[] tokenMajor, int tokens, int kvHeads, int headDim) {
        float[] out = new float[tokenMajor.length];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < kvHeads; h++) {
                System.arraycopy(tokenMajor, (t * kvHeads + h) * headDim, out, (h * tokens + t) * headDim, headDim);
            }
        }
        return out;
    }

    /** The head-major values as a tensor of the compute type, owned by {@code manager}. */
    private static NDArray toLayout(NDManager manager, float[] headMajor, int tokens, int kvHeads, int headDim,
                                    DataType type) {
        NDArray stored = manager.create(headMajor, new Shape(kvHeads, tokens, headDim));
        if (type == DataType.FLOAT32) {
            return stored;
        }
        NDArray t = stored.toType(type, false); // a conversion: a new tensor in PyTorch's memory
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
