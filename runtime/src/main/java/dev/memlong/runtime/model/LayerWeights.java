package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;

/**
 * One decoder layer's parameters in the layout the forward pass wants: q/k/v fused into one projection and
 * gate/up fused into another, so each costs one matmul (DJL pays a fixed cost per op). Two exact rewrites
 * save further ops: the q rows are pre-scaled by {@code 1/sqrt(headDim)} (attention scores need no scaling),
 * and each RMSNorm weight is folded into the projection after it ({@code W · diag(g)}). The norm weights are
 * kept beside for export and training. Projection weights keep nn.Linear's {@code [out, in]} layout: the Java
 * decode step ({@link VectorDecoder}) streams each output's weight row as one contiguous dot product, and the
 * tensor path's {@code linear} passes the transposed operand to MKL's GEMM.
 *
 * @param inputNorm RMSNorm weight before attention, {@code [hidden]}
 * @param qkv       fused q/k/v projection, {@code [(heads + 2 kvHeads) * headDim, hidden]} (nn.Linear layout),
 *                  input norm folded in, q rows scaled
 * @param qkvBias   fused bias or null (Qwen2)
 * @param out       output projection {@code [hidden, heads * headDim]}
 * @param outBias   or null
 * @param postNorm  RMSNorm weight before the MLP
 * @param gateUp    fused gate/up projection {@code [2 * intermediate, hidden]}
 * @param gateUpBias or null
 * @param down      down projection {@code [hidden, intermediate]}
 * @param downBias  or null
 */
record LayerWeights(NDArray inputNorm, NDArray qkv, NDArray qkvBias, NDArray out, NDArray outBias,
                    NDArray postNorm, NDArray gateUp, NDArray gateUpBias, NDArray down, NDArray downBias) {

    /** The layer's arrays (absent biases left out). */
    java.util.List<NDArray> arrays() {
        java.util.List<NDArray> all = new java.util.ArrayList<>();
        for (NDArray a : new NDArray[] {inputNorm, qkv, qkvBias, out, outBias, postNorm, gateUp, gateUpBias, down,
                downBias}) {
            if (a != null) {
                all.add(a);
            }
        }
        return all;
    }
}
