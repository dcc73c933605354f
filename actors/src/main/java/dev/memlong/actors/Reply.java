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
 * @param modelVersions    the model versions the turn's forward steps ran on, in order, each once: one version,
 *                         or several when a new version was swapped in while the turn ran (0: the base model)
 */
public record Reply(String text, int promptTokens, int completionTokens, Duration timeToFirstToken,
                    double tokensPerSecond, Duration retrievalTime, List<RetrievedChunk> retrieved, StopReason stopReason,
                    long memoryTokens, int windowTokens, int device, List<Integer> tokenIds, List<Long> modelVersions) {

    public Reply {
        retrieved = List.copyOf(retrieved);
        tokenIds = List.copyOf(tokenIds);
        modelVersions = List.copyOf(modelVersions);
    }

    /** A reply without model version information (for callers that build replies themselves, such as tests). */
    public Reply(String text, int promptTokens, int completionTokens, Duration timeToFirstToken,
                 double tokensPerSecond, Duration retrievalTime, List<RetrievedChunk> retrieved, StopReason stopReason,
                 long memoryTokens, int windowTokens, int device, List<Integer> tokenIds) {
        this(text, promptTokens, completionTokens, timeToFirstToken, tokensPerSecond, retrievalTime, retrieved,
                stopReason, memoryTokens, windowTokens, device, tokenIds, List.of());
    }

    /** The model version that produced the reply's last token (the last of {@link #modelVersions}), or -1. */
    public long modelVersion() {
        return modelVersions.isEmpty() ? -1 : modelVersions.get(modelVersions.size() - 1);
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
