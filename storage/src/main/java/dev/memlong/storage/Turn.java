package dev.memlong.storage;

/**
 * A stored message.
 *
 * @param seq        its sequence number in the conversation (chronological)
 * @param role       who wrote it
 * @param text       its text
 * @param tokenCount its length in tokens
 * @param timeMs     when it was stored, epoch ms
 */
public record Turn(long seq, Role role, String text, int tokenCount, long timeMs) {}
