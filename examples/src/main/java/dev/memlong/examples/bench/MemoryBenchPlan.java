package dev.memlong.examples.bench;

import java.util.Arrays;

/**
 * What {@code memlong bench memory} runs.
 *
 * @param histories       history lengths in tokens, ascending; the bank is filled to each in turn
 * @param window          the MemLong local window (tokens)
 * @param promptTokens    prompt fed as a new input before decoding (retrieves at each of its chunk boundaries)
 * @param warmupSteps     untimed decode steps after the prompt
 * @param decodeSteps     timed decode steps per configuration (greedy, one token each), split over {@code rounds}
 *                        runs; a run crosses a chunk boundary, and so retrieves once, every chunk-size steps, and
 *                        must span whole chunk cycles ({@link #requireWholeChunkCycles})
 * @param rounds          decode runs per configuration, interleaved with the other configurations
 * @param distinctTexts   history chunks embedded for real by the retriever; later chunks reuse a perturbed one
 * @param queryTexts      distinct query texts embedded per history length (query embedding cost)
 * @param retrievalCalls  timed search + gather + upload calls per history length (cycling over the queries)
 * @param seed            seed of every generated text and value
 */
public record MemoryBenchPlan(int[] histories, int window, int promptTokens, int warmupSteps, int decodeSteps,
                              int rounds, int distinctTexts, int queryTexts, int retrievalCalls, long seed) {

    public MemoryBenchPlan {
        histories = histories.clone();
        if (histories.length == 0 || Arrays.stream(histories).anyMatch(h -> h <= 0)) {
            throw new IllegalArgumentException("history lengths must be positive");
        }
        for (int i = 1; i < histories.length; i++) {
            if (histories[i] <= histories[i - 1]) {
                throw new IllegalArgumentException("history lengths must ascend: " + Arrays.toString(histories));
            }
        }
        if (rounds < 1 || decodeSteps % rounds != 0) {
            throw new IllegalArgumentException("decode steps (" + decodeSteps + ") must split evenly into " + rounds
                    + " rounds");
        }
        if (promptTokens < 1 || warmupSteps < 0 || decodeSteps < 1 || distinctTexts < 1 || queryTexts < 1
                || retrievalCalls < 1) {
            throw new IllegalArgumentException("token counts, texts and calls must be positive");
        }
        if (promptTokens + warmupSteps + decodeSteps / rounds > window) {
            throw new IllegalArgumentException("prompt + warm-up + decode steps of a round ("
                    + (promptTokens + warmupSteps + decodeSteps / rounds)
                    + ") must fit the local window " + window + ": the bank must not change while decoding");
        }
    }

    /**
     * 4k, 64k and 256k tokens of history; 2048-token window; 512-token prompt; 2048 timed steps per configuration in
     * 4 rounds of 512; every history chunk embedded by the retriever.
     *
     * <p>Only one decode step in a chunk (128 tokens) retrieves, and it is the only step whose cost depends on the
     * history's length. With the earlier plan's 256 steps per configuration two were retrieval steps: p50 and p99 of
     * the steps never saw them, so "longest within 1.25x of shortest" held by construction. 512 steps a round are 4
     * whole chunk cycles (16 retrieval steps per configuration), so the per-token mean includes retrieval at its real
     * share and the retrieval steps have a percentile of their own.
     */
    public static MemoryBenchPlan standard() {
        return new MemoryBenchPlan(new int[] {4096, 65536, 262144}, 2048, 512, 16, 2048, 4, Integer.MAX_VALUE, 16, 200, 42);
    }

    public int decodeStepsPerRound() {
        return decodeSteps / rounds;
    }

    /**
     * Fails unless every decode run spans whole chunk cycles of {@code chunkSize} steps: each cycle holds exactly
     * one retrieval step (the step that crosses the chunk boundary), so the mean over a run is the per-token cost
     * with retrieval at its real share, whatever step the run starts at.
     */
    public void requireWholeChunkCycles(int chunkSize) {
        if (decodeStepsPerRound() % chunkSize != 0) {
            throw new IllegalArgumentException("decode steps per round (" + decodeStepsPerRound()
                    + ") must be a whole number of chunks of " + chunkSize + " tokens: each chunk holds one retrieval step");
        }
    }

    @Override
    public int[] histories() {
        return histories.clone();
    }

    public int maxHistory() {
        return histories[histories.length - 1];
    }
}
