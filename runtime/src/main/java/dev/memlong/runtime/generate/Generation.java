package dev.memlong.runtime.generate;

/**
 * The result of generating a continuation.
 *
 * @param ids          generated token ids (a stop token that ended generation is included)
 * @param text         generated text, special tokens skipped and cut before any stop string
 * @param stopReason   why generation ended
 * @param promptTokens tokens in the prompt
 * @param prefillNanos time spent processing the prompt (time to first token)
 * @param decodeNanos  time spent generating the tokens after the first
 */
public record Generation(int[] ids, String text, StopReason stopReason, int promptTokens, long prefillNanos,
                         long decodeNanos) {

    /** Why generation ended. */
    public enum StopReason {
        LENGTH,
        STOP_TOKEN,
        STOP_STRING
    }
}
