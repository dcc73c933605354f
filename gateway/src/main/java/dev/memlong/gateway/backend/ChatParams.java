package dev.memlong.gateway.backend;

import java.util.List;

/**
 * How one reply is generated; the shape of {@code dev.memlong.actors.GenerationParams}. Invalid values fail with
 * an {@link ErrorCode#INVALID} {@link ChatException} naming the field (its {@code param}, as OpenAI's errors do).
 *
 * @param maxNewTokens      upper bound on reply tokens (at least 1)
 * @param temperature       0 for greedy, else the softmax temperature
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              nucleus sampling threshold in (0, 1] (1 = off)
 * @param repetitionPenalty CTRL-style penalty (1 = off), positive
 * @param seed              sampling seed; the same seed gives the same reply
 * @param stopStrings       non-empty strings that end the reply (cut before them)
 */
public record ChatParams(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty,
                         long seed, List<String> stopStrings) {

    /** At most this many stop strings. */
    public static final int MAX_STOP_STRINGS = 16;

    public ChatParams {
        check(maxNewTokens >= 1, "max_new_tokens", "max_new_tokens must be >= 1, got " + maxNewTokens);
        check(temperature >= 0 && temperature <= 100, "temperature", "temperature must be in [0, 100], got " + temperature);
        check(topK >= 0, "top_k", "top_k must be >= 0, got " + topK);
        check(topP > 0 && topP <= 1, "top_p", "top_p must be in (0, 1], got " + topP);
        check(repetitionPenalty > 0 && repetitionPenalty <= 100, "repetition_penalty",
                "repetition_penalty must be in (0, 100], got " + repetitionPenalty);
        stopStrings = List.copyOf(stopStrings);
        check(stopStrings.size() <= MAX_STOP_STRINGS, "stop", "at most " + MAX_STOP_STRINGS + " stop strings");
        check(stopStrings.stream().noneMatch(String::isEmpty), "stop", "stop strings must not be empty");
    }

    private static void check(boolean ok, String param, String message) {
        if (!ok) {
            throw ChatException.invalidParam(param, message);
        }
    }

    /** Sampling at temperature 0.7, top-p 0.9, up to {@code maxNewTokens} tokens. */
    public static ChatParams defaults(int maxNewTokens) {
        return new ChatParams(maxNewTokens, 0.7, 0, 0.9, 1.0, 0, List.of());
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens. */
    public static ChatParams greedy(int maxNewTokens) {
        return new ChatParams(maxNewTokens, 0, 0, 1, 1.0, 0, List.of());
    }
}
