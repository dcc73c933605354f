package dev.memlong.memory;

/** A search hit: a chunk's sequence number and its inner-product score with the query. */
public record ScoredChunk(long seq, float score) {}
