package dev.memlong.examples.bench;

/**
 * What both runtimes run, identically: first a warm-up of {@code warmupSeconds} (prefills of the prefill prompt, each
 * followed by {@link #WARMUP_DECODE_STEPS} decode steps, repeated until that much time has passed: both JITs compile
 * their kernels there, whatever each runtime's speed); then prefill of a {@code prefillTokens} prompt
 * ({@code prefillWarmups} untimed, then {@code prefillRuns} timed, each from an empty cache, forward plus the greedy
 * choice of the first token); then, from a fresh cache holding a {@code decodePromptTokens} prompt,
 * {@code decodeWarmups} untimed greedy steps and {@code decodeTokens} timed ones (single-token forwards with the KV
 * cache, greedy argmax, never stopping early).
 */
public record BenchPlan(int prefillTokens, int prefillWarmups, int prefillRuns, int decodePromptTokens,
                        int decodeWarmups, int decodeTokens, long seed, double warmupSeconds) {

    /** Decode steps after each warm-up prefill. */
    public static final int WARMUP_DECODE_STEPS = 64;

    public BenchPlan {
        if (prefillTokens < 1 || prefillRuns < 1 || decodePromptTokens < 1 || decodeTokens < 1 || prefillWarmups < 0
                || decodeWarmups < 0) {
            throw new IllegalArgumentException("token counts and runs must be positive");
        }
        if (!(warmupSeconds >= 0) || !Double.isFinite(warmupSeconds)) {
            throw new IllegalArgumentException("warm-up seconds must be finite and >= 0, got " + warmupSeconds);
        }
    }

    /**
     * The benchmark: a 512-token prefill (median of 3 after 1 warm-up), 256 decoded tokens, after 10 seconds of
     * warm-up on each side.
     */
    public static BenchPlan standard() {
        return new BenchPlan(512, 1, 3, 32, 16, 256, 42, 10);
    }

    /** Cache capacity a warm-up round needs: the prefill prompt and its decode steps. */
    public int warmupCapacity() {
        return prefillTokens + WARMUP_DECODE_STEPS + 1;
    }

    /** Whether a warm-up that began at {@code startNanos} (System.nanoTime) should go on. */
    public boolean warmingUp(long startNanos) {
        return System.nanoTime() - startNanos < warmupSeconds * 1e9;
    }

    /** Cache capacity the decode phase needs. */
    public int decodeCapacity() {
        return decodePromptTokens + decodeWarmups + decodeTokens + 1;
    }

    /** As command-line arguments for the Jlama child. */
    String[] toArgs() {
        return new String[] {String.valueOf(prefillTokens), String.valueOf(prefillWarmups), String.valueOf(prefillRuns),
            String.valueOf(decodePromptTokens), String.valueOf(decodeWarmups), String.valueOf(decodeTokens),
            String.valueOf(seed), String.valueOf(warmupSeconds)};
    }

    /** Parses {@link #toArgs()} from {@code args[from..]}. */
    public static BenchPlan fromArgs(String[] args, int from) {
        return new BenchPlan(Integer.parseInt(args[from]), Integer.parseInt(args[from + 1]),
                Integer.parseInt(args[from + 2]), Integer.parseInt(args[from + 3]), Integer.parseInt(args[from + 4]),
                Integer.parseInt(args[from + 5]), Long.parseLong(args[from + 6]), Double.parseDouble(args[from + 7]));
    }
}
