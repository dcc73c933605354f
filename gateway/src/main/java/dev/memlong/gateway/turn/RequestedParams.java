package dev.memlong.gateway.turn;

import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ErrorCode;

import java.util.List;

/**
 * Generation parameters as a client sent them: null for "not given". {@link #resolve} fills the server's defaults
 * and checks every value.
 *
 * @param maxNewTokens      reply length, or null
 * @param temperature       0 for greedy, or null
 * @param topK              or null
 * @param topP              or null
 * @param repetitionPenalty or null
 * @param seed              or null
 * @param stop              stop strings (empty for none)
 * @param maxNewTokensField  the name the client gave the reply length under, for its errors: {@code max_new_tokens}
 *                          on the WebSocket protocol, {@code max_tokens} or {@code max_completion_tokens} from
 *                          OpenAI clients
 */
public record RequestedParams(Long maxNewTokens, Double temperature, Long topK, Double topP,
                              Double repetitionPenalty, Long seed, List<String> stop, String maxNewTokensField) {

    /** Nothing given. */
    public static final RequestedParams NONE = new RequestedParams(null, null, null, null, null, null, List.of());

    public RequestedParams {
        stop = stop == null ? List.of() : List.copyOf(stop);
        maxNewTokensField = maxNewTokensField == null ? "max_new_tokens" : maxNewTokensField;
    }

    /** Parameters whose reply length is called {@code max_new_tokens} (the WebSocket protocol's name). */
    public RequestedParams(Long maxNewTokens, Double temperature, Long topK, Double topP, Double repetitionPenalty,
                           Long seed, List<String> stop) {
        this(maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, stop, null);
    }

    /**
     * The parameters to generate with: the server defaults ({@code defaultMaxNewTokens}, temperature 0.7, top-p
     * 0.9) where nothing was given.
     *
     * @throws ChatException {@link ErrorCode#INVALID} naming the bad value
     */
    public ChatParams resolve(int defaultMaxNewTokens, int maxNewTokensLimit) {
        ChatParams d = ChatParams.defaults(defaultMaxNewTokens);
        long max = maxNewTokens == null ? defaultMaxNewTokens : maxNewTokens;
        if (max < 1 || max > maxNewTokensLimit) {
            throw ChatException.invalidParam(maxNewTokensField,
                    maxNewTokensField + " must be in [1, " + maxNewTokensLimit + "], got " + max);
        }
        long k = topK == null ? d.topK() : topK;
        if (k < 0 || k > Integer.MAX_VALUE) {
            throw ChatException.invalidParam("top_k", "top_k must be >= 0, got " + k);
        }
        return new ChatParams((int) max, or(temperature, d.temperature()), (int) k, or(topP, d.topP()),
                or(repetitionPenalty, d.repetitionPenalty()), seed == null ? d.seed() : seed, stop);
    }

    private static double or(Double v, double fallback) {
        return v == null ? fallback : v;
    }
}
