package dev.memlong.gateway.backend;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A finished reply; the shape of {@code dev.memlong.actors.Reply}.
 *
 * @param text             the reply text (cut before any stop string)
 * @param promptTokens     tokens fed to the model for this turn
 * @param completionTokens tokens generated
 * @param timeToFirstToken from admission to the first generated token
 * @param tokensPerSecond  generated tokens per second after the first one
 * @param retrievalTime    time spent retrieving memory for this reply ({@link Duration#ZERO} when unknown)
 * @param retrieved        memory chunks retrieved while the reply was produced, chronological
 * @param finish           why generation ended
 * @param memoryTokens     tokens in the conversation's memory bank after the turn
 * @param windowTokens     tokens in the conversation's local window after the turn
 */
public record ChatReply(String text, int promptTokens, int completionTokens, Duration timeToFirstToken,
                        double tokensPerSecond, Duration retrievalTime, List<Retrieved> retrieved, Finish finish,
                        long memoryTokens, int windowTokens) {

    public ChatReply {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(timeToFirstToken, "timeToFirstToken");
        Objects.requireNonNull(retrievalTime, "retrievalTime");
        Objects.requireNonNull(finish, "finish");
        retrieved = List.copyOf(retrieved);
    }

    /** Why a reply ended. */
    public enum Finish {
        /** an end-of-turn token or a stop string */
        STOP,
        /** the maximum number of new tokens was reached */
        LENGTH
    }

    /**
     * A memory chunk retrieval chose for the reply.
     *
     * @param seq   the chunk's sequence number in its conversation
     * @param score its similarity to the query
     * @param text  its text
     */
    public record Retrieved(long seq, float score, String text) {
        public Retrieved {
            Objects.requireNonNull(text, "text");
        }
    }
}
