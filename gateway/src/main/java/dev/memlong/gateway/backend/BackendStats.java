package dev.memlong.gateway.backend;

/**
 * The runtime's gauges at one instant, exported on {@code /metrics}.
 *
 * @param tokensPerSecond          aggregate decode throughput over the last few seconds
 * @param batchSize                sequences in the running batches now, all devices
 * @param queueDepth               turns waiting for a batch slot now, all devices
 * @param retrievals               memory retrievals since start, all devices
 * @param retrievalNanos           total time of those retrievals (embedding, search, K/V gather and upload)
 * @param chunksFromCache          memory chunks retrievals found in the storage's K/V cache, since start
 * @param chunksFromDisk           memory chunks retrievals had to read from storage themselves (the device waited)
 * @param chunksReadAhead          memory chunks read from storage ahead of their retrieval, off the device
 * @param memoryBankChunks         chunks in the memory banks of active conversations
 * @param memoryBankTokens         tokens in the memory banks of active conversations
 * @param activeConversations      conversations with state in RAM
 * @param passivatedConversations  conversations stored but passivated
 * @param trainerRounds            training rounds the trainer ran since start (published, rejected or failed): 0 for
 *                                 a backend whose runtime runs none
 * @param trainerRoundsPublished   of those, the rounds whose version was published and swapped in
 */
public record BackendStats(double tokensPerSecond, int batchSize, int queueDepth, long retrievals,
                           long retrievalNanos, long chunksFromCache, long chunksFromDisk, long chunksReadAhead,
                           long memoryBankChunks,
                           long memoryBankTokens, int activeConversations, long passivatedConversations,
                           long trainerRounds, long trainerRoundsPublished) {

    /** All zero, for backends that track nothing. */
    public static final BackendStats EMPTY = new BackendStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
