package dev.memlong.actors;

import dev.memlong.runtime.generate.SamplingParams;
import java.util.List;

/**
 * How one reply is generated. {@code temperature == 0} is greedy decoding; the model's end-of-turn tokens always
 * stop generation.
 *
 * @param maxNewTokens      upper bound on reply tokens (0 to {@link #MAX_NEW_TOKENS_LIMIT})
 * @param temperature       0 for greedy, else the softmax temperature
 * @param topK              keep the k most likely tokens (0 = off)
 * @param topP              nucleus sampling threshold (1 = off)
 * @param repetitionPenalty CTRL-style penalty on tokens already in the reply and prompt (1 = off)
 * @param seed              sampling seed; the same seed gives the same reply
 * @param stopStrings       strings that end the reply (cut before them)
 * @param ignoreEos         keep generating past the model's end-of-turn tokens (benchmarks, tests)
 */
public record GenerationParams(int maxNewTokens, double temperature, int topK, double topP,
                               double repetitionPenalty, long seed, List<String> stopStrings, boolean ignoreEos) {

    /**
     * The largest {@link #maxNewTokens} accepted. A reply is generated one token per step, so a million tokens is
     * already hours of one sequence; the bound keeps a client's typo (or {@code Integer.MAX_VALUE} as "unlimited")
     * from reaching the device with an absurd length.
     */
    public static final int MAX_NEW_TOKENS_LIMIT = 1 << 20;

    /** @throws IllegalArgumentException naming the parameter for an invalid value */
    public GenerationParams {
        if (maxNewTokens > MAX_NEW_TOKENS_LIMIT) {
            throw new IllegalArgumentException("maxNewTokens must be at most " + MAX_NEW_TOKENS_LIMIT + ", got "
                    + maxNewTokens);
        }
        stopStrings = List.copyOf(stopStrings);
        // validates every value, naming it
        new SamplingParams(maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, List.of(), stopStrings);
    }

    /** Sampling at temperature 0.7, top-p 0.9, up to 256 tokens. */
    public static GenerationParams defaults() {
        return new GenerationParams(256, 0.7, 0, 0.9, 1.0, 0, List.of(), false);
    }

    /** Greedy decoding of up to {@code maxNewTokens} tokens. */
    public static GenerationParams greedy(int maxNewTokens) {
        return new GenerationParams(maxNewTokens, 0, 0, 1, 1.0, 0, List.of(), false);
    }

    public GenerationParams withMaxNewTokens(int n) {
        return new GenerationParams(n, temperature, topK, topP, repetitionPenalty, seed, stopStrings, ignoreEos);
    }

    public GenerationParams withSeed(long s) {
        return new GenerationParams(maxNewTokens, temperature, topK, topP, repetitionPenalty, s, stopStrings, ignoreEos);
    }

    public GenerationParams withStopStrings(List<String> strings) {
        return new GenerationParams(maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, strings, ignoreEos);
    }

    /** A copy that generates past end-of-turn tokens (exactly maxNewTokens, unless a stop string comes). */
    public GenerationParams withIgnoreEos(boolean ignore) {
        return new GenerationParams(maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, stopStrings, ignore);
    }

    /** The runtime's sampling parameters, with the model's stop tokens (unless {@link #ignoreEos}). */
    public SamplingParams toSampling(List<Integer> stopTokenIds) {
        return new SamplingParams(maxNewTokens, temperature, topK, topP, repetitionPenalty, seed,
                ignoreEos ? List.of() : stopTokenIds, stopStrings);
    }
}
