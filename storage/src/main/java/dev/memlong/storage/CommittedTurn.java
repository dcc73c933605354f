package dev.memlong.storage;

import java.util.List;

/**
 * What a committed (durable, acknowledged) turn wrote.
 *
 * @param turnSeqs    sequence numbers of its messages
 * @param chunkSeqs   sequence numbers given to its new chunks (a chunk of a commit that overflows the bank may
 *                    also be in {@code evictedSeqs})
 * @param evictedSeqs chunks the commit evicted to stay within capacity
 */
public record CommittedTurn(List<Long> turnSeqs, List<Long> chunkSeqs, List<Long> evictedSeqs) {}
