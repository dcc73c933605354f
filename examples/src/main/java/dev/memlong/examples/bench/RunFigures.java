package dev.memlong.examples.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One runtime's measured figures.
 *
 * @param prefillTokPerS       median prompt tokens/s over the timed prefill runs
 * @param prefillRunsTokPerS   every timed prefill run
 * @param decodeTokPerS        timed decode tokens / their total wall time
 * @param decodeMedianStepTokPerS 1 / the median step time (less sensitive to other processes' bursts)
 * @param decodedTokens        decode steps actually timed
 */
public record RunFigures(double prefillTokPerS, double[] prefillRunsTokPerS, double decodeTokPerS,
                         double decodeMedianStepTokPerS, int decodedTokens) {

    /** Figures from per-run prefill seconds and per-step decode seconds. */
    public static RunFigures of(int prefillTokens, double[] prefillSeconds, double[] stepSeconds) {
        double[] rates = new double[prefillSeconds.length];
        for (int i = 0; i < rates.length; i++) {
            rates[i] = prefillTokens / prefillSeconds[i];
        }
        double total = 0;
        for (double s : stepSeconds) {
            total += s;
        }
        return new RunFigures(Samples.median(rates), rates, stepSeconds.length / total,
                1.0 / Samples.median(stepSeconds), stepSeconds.length);
    }

    /** As JSON-ready values, keys prefixed (e.g. {@code jlama_}). */
    Map<String, Object> toMap(String prefix) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(prefix + "prefill_tok_s", prefillTokPerS);
        m.put(prefix + "prefill_runs_tok_s", prefillRunsTokPerS);
        m.put(prefix + "decode_tok_s", decodeTokPerS);
        m.put(prefix + "decode_median_step_tok_s", decodeMedianStepTokPerS);
        m.put(prefix + "decoded_tokens", decodedTokens);
        return m;
    }
}
