package dev.memlong.runtime.model;

/**
 * The oldest tokens of a window, removed from the local cache: the memory layer's pre-RoPE keys and its values,
 * as memory stores them.
 *
 * @param tokens how many tokens
 * @param keys   {@code [tokens, kvHeads, headDim]} row-major
 * @param values same layout
 */
public record EvictedWindow(int tokens, float[] keys, float[] values) {}
