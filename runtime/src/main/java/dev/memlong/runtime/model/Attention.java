package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;

/**
 * Grouped-query attention, plain and MemLong's retrieval causal attention. Query heads are grouped under their
 * KV head ({@code [B, KV, G*T, D]}) so K and V are never repeated in memory. Softmax runs in float32.
 */
final class Attention {

    private final int heads;
    private final int kvHeads;
    private final int groups;
    private final int headDim;
    private final DataType computeType;

    Attention(int heads, int kvHeads, int headDim, DataType computeType) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.groups = heads / kvHeads;
        this.headDim = headDim;
        this.computeType = computeType;
    }

    /** {@code q [B,T,H,D]} over cached {@code k, v [B,KV,S,D]}, causal mask: returns {@code [B, T, H*D]}. */
    NDArray local(NDArray q, NDArray k, NDArray v, NDArray mask, int b, int t, int span) {
        NDArray qg = grouped(q, b, t);
        NDArray probs = softmax(qg.matMul(k.transpose(0, 1, 3, 2)), mask, b, t, span);
        return merged(probs.matMul(v), b, t);
    }

    /**
     * Retrieval causal attention: one softmax over {@code [memory | local]} scores. Memory keys are pre-RoPE
     * (position 0, rotation by 0 is the identity) and visible to every query; local keys are causal.
     */
    NDArray withMemory(NDArray q, NDArray k, NDArray v, NDArray memK, NDArray memV, NDArray mask, int b, int t,
                       int span) {
        NDArray qg = grouped(q, b, t);
        long memory = memK.getShape().get(2);
        NDArray scores = qg.matMul(memK.transpose(0, 1, 3, 2)).concat(qg.matMul(k.transpose(0, 1, 3, 2)), 3);
        NDArray probs = softmax(scores, mask, b, t, (int) (memory + span));
        NDList parts = probs.split(new long[] {memory}, 3);
        return merged(parts.get(0).matMul(memV).add(parts.get(1).matMul(v)), b, t);
    }

    private NDArray grouped(NDArray q, int b, int t) {
        // with one token per sequence the transpose moves nothing: a reshape is enough
        NDArray byHead = t == 1 ? q : q.transpose(0, 2, 1, 3);
        return byHead.reshape(b, kvHeads, (long) groups * t, headDim);
    }

    /** Scores arrive scaled: the q projection is pre-multiplied by {@code 1/sqrt(headDim)} at load. */
    private NDArray softmax(NDArray scores, NDArray mask, int b, int t, int columns) {
        NDArray s = scores;
        if (computeType != DataType.FLOAT32) {
            s = s.toType(DataType.FLOAT32, false);
        }
        if (mask != null) {
            s = s.reshape(b, kvHeads, groups, t, columns).add(mask);
        }
        NDArray p = s.softmax(-1).reshape(b, kvHeads, (long) groups * t, columns);
        return computeType == DataType.FLOAT32 ? p : p.toType(computeType, false);
    }

    private NDArray merged(NDArray out, int b, int t) {
        // [B, KV, G*T, D] -> [B, H, T, D] -> [B, T, H*D]
        if (t == 1) {
            return out.reshape(b, t, (long) heads * headDim);
        }
        return out.reshape(b, heads, t, headDim).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * headDim);
    }
}
