package dev.memlong.runtime.generate;

import java.util.List;

/**
 * How the next token is chosen and when generation stops. Processing order follows transformers: repetition
 * penalty, then temperature, top-k, top-p; {@code temperature == 0} means greedy.
 *
 * @param maxNewTokens      upper bound on generated tokens
 * @param temperature       0 for greedy (argmax), else the softmax temperature
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              keep the smallest set of tokens whose probability reaches p (1 = off)
 * @param repetitionPenalty transformers' CTRL-style penalty on tokens already in the context (1 = off)
 * @param seed              seed of the sampling random generator; the same seed gives the same tokens
 * @param stopTokenIds      ids that end generation (included in the output ids, not in the text)
 * @param stopStrings       strings that end generation; the text is cut before the stop string
 */
public record SamplingParams(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty,
                             long seed, List<Integer> stopTokenIds, List<String> stopStrings) {

    public SamplingParams {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 0, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be > 0, got " + repetitionPenalty);
        }
        stopTokenIds = List.copyOf(stopTokenIds);
        stopStrings = List.copyOf(stopStrings);
        if (stopStrings.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("stop strings must not be empty");
        }
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens, no stop condition. */
    public static SamplingParams greedy(int maxNewTokens) {
        return new SamplingParams(maxNewTokens, 0, 0, 1, 1, 0, List.of(), List.of());
    }

    /** Sampling with temperature and nucleus filtering. */
    public static SamplingParams sample(int maxNewTokens, double temperature, double topP, long seed) {
        return new SamplingParams(maxNewTokens, temperature, 0, topP, 1, seed, List.of(), List.of());
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    public SamplingParams withStopTokens(List<Integer> ids) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, ids, stopStrings);
    }

    public SamplingParams withStopStrings(List<String> strings) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, stopTokenIds, strings);
    }

    public SamplingParams withRepetitionPenalty(double penalty) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, penalty, seed, stopTokenIds, stopStrings);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(maxNewTokens, temperature, k, topP, repetitionPenalty, seed, stopTokenIds, stopStrings);
    }
}
