package dev.memlong.actors;

import java.time.Duration;
import java.util.List;

/**
 * A finished reply.
 *
 * @param text             the reply text (cut before any stop string)
 * @param promptTokens     tokens fed to the model for this turn (the rendered user turn, plus the restored
 *                         recent dialogue when the conversation's window had to be rebuilt)
 * @param completionTokens tokens generated
 * @param timeToFirstToken from admission to the device to the first generated token
 * @param tokensPerSecond  generated tokens per second after the first one (0 for a single token)
 * @param retrievalTime    time the reply's memory retrievals took (query embedding, top-k search, K/V gather and
 *                         upload; zero when the memory bank was empty)
 * @param retrieved        memory chunks retrieved while the reply was produced, chronological
 * @param stopReason       why generation ended
 * @param memoryTokens     tokens in the conversation's memory bank after the turn
 * @param windowTokens     tokens in the conversation's local window after the turn
 * @param device           index of the device worker that generated it
 * @param tokenIds         the generated token ids (a stop token that ended the reply included)
 */
public record Reply(String text, int promptTokens, int completionTokens, Duration timeToFirstToken,
                    double tokensPerSecond, Duration retrievalTime, List<RetrievedChunk> retrieved, StopReason stopReason, long memoryTokens,
                    int windowTokens, int device, List<Integer> tokenIds) {

    public Reply {
        retrieved = List.copyOf(retrieved);
        tokenIds = List.copyOf(tokenIds);
    }

    /** Why a reply ended. */
    public enum StopReason {
        /** the model ended its turn (an end-of-sequence token) */
        STOP_TOKEN,
        /** a stop string appeared */
        STOP_STRING,
        /** maxNewTokens was reached */
        LENGTH
    }
}
