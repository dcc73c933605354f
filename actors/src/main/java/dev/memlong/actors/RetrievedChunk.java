package dev.memlong.actors;

/**
 * A memory chunk retrieval chose for a reply.
 *
 * @param seq   the chunk's sequence number in its conversation (as stored)
 * @param score its similarity to the query
 * @param text  its text
 */
public record RetrievedChunk(long seq, float score, String text) {}
