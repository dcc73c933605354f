package dev.memlong.gateway.backend;

/**
 * The runtime's gauges at one instant, exported on {@code /metrics}.
 *
 * @param tokensPerSecond          aggregate decode throughput over the last few seconds
 * @param batchSize                sequences in the running batches, all devices
 * @param queueDepth               turns waiting for admission, all devices
 * @param memoryBankChunks         chunks in the memory banks of active conversations
 * @param memoryBankTokens         tokens in the memory banks of active conversations
 * @param activeConversations      conversations with state in RAM
 * @param passivatedConversations  conversations stored but passivated
 * @param trainerRounds            training rounds finished since start
 */
public record BackendStats(double tokensPerSecond, int batchSize, int queueDepth, long memoryBankChunks,
                           long memoryBankTokens, int activeConversations, long passivatedConversations,
                           long trainerRounds) {

    /** All zero, for backends that track nothing. */
    public static final BackendStats EMPTY = new BackendStats(0, 0, 0, 0, 0, 0, 0, 0);
}
