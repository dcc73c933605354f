package dev.memlong.gateway.backend;

import java.util.Objects;

/**
 * A memory chunk as listed; the shape of {@code dev.memlong.storage.ChunkSummary}.
 *
 * @param seq            the chunk's sequence number in its conversation
 * @param tokenCount     its length in tokens
 * @param retrievalCount how often retrieval chose it
 * @param text           its text
 */
public record ChatChunk(long seq, int tokenCount, long retrievalCount, String text) {
    public ChatChunk {
        Objects.requireNonNull(text, "text");
    }
}
