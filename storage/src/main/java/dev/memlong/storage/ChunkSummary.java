package dev.memlong.storage;

/**
 * A memory chunk without its K/V and embedding, for listing.
 *
 * @param seq            its sequence number (chronological)
 * @param tokenCount     its tokens
 * @param retrievalCount how often retrieval chose it (as last persisted)
 * @param text           its text
 * @param createdAtMs    when it was stored, epoch ms
 */
public record ChunkSummary(long seq, int tokenCount, long retrievalCount, String text, long createdAtMs) {}
