package dev.memlong.examples.bench.batching;

/**
 * Running conversations' inter-token latency while a long prompt is prefilled, and in an equally long window just
 * before it arrived.
 *
 * @param promptTokens the long turn's prompt tokens (as the conversation fed them)
 * @param seconds      how long its prefill took (arrival to its first token)
 */
public record LongPromptFigures(int promptTokens, double seconds, double p99WithoutMs, double p99WithMs,
                                double p50WithoutMs, double p50WithMs, int samplesWithout, int samplesWith) {

    /** p99 with / p99 without. */
    public double ratio() {
        return p99WithMs / p99WithoutMs;
    }
}
