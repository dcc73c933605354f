package dev.memlong.examples.bench;

import dev.memlong.runtime.memlong.Retrieval;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Timed decode steps of one run or several: each step's wall time (forward + argmax, retrieval included when the step
 * crossed a chunk boundary) and whether it retrieved.
 *
 * @param ms         per step, milliseconds
 * @param retrieved  per step, whether it ran a retrieval
 * @param retrievals the retrievals of the timed steps, with their phase timings
 * @param rssGrowthBytes per run, resident growth from the first timed step to the last (after a collection at both)
 * @param heapCommittedGrowthBytes per run, growth of the Java heap's committed size over the same steps (part of
 *                   the resident growth when the JVM resizes its heap)
 */
record DecodeSteps(double[] ms, boolean[] retrieved, List<Retrieval> retrievals, long[] rssGrowthBytes,
                   long[] heapCommittedGrowthBytes) {

    /** This run's steps followed by {@code next}'s. */
    DecodeSteps concat(DecodeSteps next) {
        double[] m = Arrays.copyOf(ms, ms.length + next.ms.length);
        System.arraycopy(next.ms, 0, m, ms.length, next.ms.length);
        boolean[] r = Arrays.copyOf(retrieved, retrieved.length + next.retrieved.length);
        System.arraycopy(next.retrieved, 0, r, retrieved.length, next.retrieved.length);
        List<Retrieval> all = new java.util.ArrayList<>(retrievals);
        all.addAll(next.retrievals);
        long[] g = Arrays.copyOf(rssGrowthBytes, rssGrowthBytes.length + next.rssGrowthBytes.length);
        System.arraycopy(next.rssGrowthBytes, 0, g, rssGrowthBytes.length, next.rssGrowthBytes.length);
        long[] h = Arrays.copyOf(heapCommittedGrowthBytes, heapCommittedGrowthBytes.length
                + next.heapCommittedGrowthBytes.length);
        System.arraycopy(next.heapCommittedGrowthBytes, 0, h, heapCommittedGrowthBytes.length,
                next.heapCommittedGrowthBytes.length);
        return new DecodeSteps(m, r, List.copyOf(all), g, h);
    }

    /**
     * The largest resident growth over one run's timed steps, the first run left out when there are more: the first
     * decode after the history is built can still grow the native allocators' pools once (seen: tens of MB in the
     * first round, 0 in every later one), which is not growth per step.
     */
    long steadyMaxRssGrowthBytes() {
        long[] g = rssGrowthBytes.length > 1 ? Arrays.copyOfRange(rssGrowthBytes, 1, rssGrowthBytes.length) : rssGrowthBytes;
        return Arrays.stream(g).max().orElse(0);
    }

    /** The largest resident growth over one run's timed steps. */
    long maxRssGrowthBytes() {
        return Arrays.stream(rssGrowthBytes).max().orElse(0);
    }

    /**
     * Mean step time: the per-token cost. Runs span whole chunk cycles ({@link MemoryBenchPlan#requireWholeChunkCycles}),
     * so the one retrieval step of each cycle counts at its real share; p50 and p99 do not see it (one step in 128).
     */
    double perTokenMs() {
        return Samples.mean(ms);
    }

    /** Nearest-rank percentile of the steps that retrieved; null when none did (memory off). */
    Double retrievalStepMs(double p) {
        double[] with = steps(true);
        return with.length == 0 ? null : Samples.percentile(with, p);
    }

    /** Mean of the steps that retrieved; NaN when none did. */
    double retrievalStepMeanMs() {
        double[] with = steps(true);
        return with.length == 0 ? Double.NaN : Samples.mean(with);
    }

    double p50() {
        return Samples.percentile(ms, 50);
    }

    double p99() {
        return Samples.percentile(ms, 99);
    }

    int retrievalSteps() {
        int n = 0;
        for (boolean r : retrieved) {
            n += r ? 1 : 0;
        }
        return n;
    }

    /**
     * What the retrieval steps' time is made of, means in ms over them: the retrieval's phases as it timed them
     * ({@code query_embedding}, {@code search}, {@code gather}, {@code upload}) and the rest of the step, the forward and
     * the argmax ({@code forward}); null when no step retrieved. Each retrieval step ran exactly one retrieval, the
     * step's own, in order ({@link #retrievals}). The query is embedded on the decoding thread here
     * ({@code MemLongSequence} alone); {@code MemLongRuntime} embeds it off the device thread before the step.
     */
    Map<String, Object> retrievalStepBreakdownMs() {
        double[] with = steps(true);
        if (with.length == 0 || with.length != retrievals.size()) {
            return null;
        }
        RetrievalCost c = RetrievalCost.ofRetrievals(retrievals);
        double[] rest = new double[with.length];
        for (int i = 0; i < with.length; i++) {
            rest[i] = with[i] - retrievals.get(i).timings().totalNanos() / 1e6;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", Samples.mean(with));
        m.put("query_embedding", Samples.mean(c.embedMs()));
        m.put("search", Samples.mean(c.searchMs()));
        m.put("gather", Samples.mean(c.gatherMs()));
        m.put("upload", Samples.mean(c.uploadMs()));
        m.put("forward", Samples.mean(rest));
        m.put("query_chars", retrievals.stream().mapToInt(r -> r.query().length()).average().orElse(0));
        m.put("steps", with.length);
        return m;
    }

    /** Steps that did (or did not) retrieve; empty when there are none. */
    double[] steps(boolean retrieving) {
        double[] out = new double[ms.length];
        int n = 0;
        for (int i = 0; i < ms.length; i++) {
            if (retrieved[i] == retrieving) {
                out[n++] = ms[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** @param rssMeasured false where resident memory could not be read: its growths are then null, not 0 */
    Map<String, Object> toMap(boolean rssMeasured) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p50_ms", p50());
        m.put("p99_ms", p99());
        m.put("mean_ms", perTokenMs());
        m.put("max_ms", Samples.max(ms));
        m.put("steps", ms.length);
        m.put("runs", rssGrowthBytes.length);
        m.put("rss_growth_mb_per_run", rssMeasured
                ? Arrays.stream(rssGrowthBytes).mapToDouble(ResidentMemory::mb).toArray() : null);
        m.put("heap_committed_growth_mb_per_run",
                Arrays.stream(heapCommittedGrowthBytes).mapToDouble(ResidentMemory::mb).toArray());
        m.put("retrieval_steps", retrievalSteps());
        double[] plain = steps(false);
        m.put("p50_ms_without_retrieval", plain.length == 0 ? null : Samples.percentile(plain, 50));
        m.put("p99_ms_without_retrieval", plain.length == 0 ? null : Samples.percentile(plain, 99));
        double[] with = steps(true);
        m.put("retrieval_step_mean_ms", with.length == 0 ? null : Samples.mean(with));
        m.put("retrieval_step_p50_ms", retrievalStepMs(50));
        m.put("retrieval_step_p99_ms", retrievalStepMs(99));
        m.put("retrieval_step_breakdown_mean_ms", retrievalStepBreakdownMs());
        if (!retrievals.isEmpty()) {
            m.put("in_step_retrieval_mean_ms", RetrievalCost.ofRetrievals(retrievals).meansMs());
            // the random-weight model generates arbitrary tokens: their text is far longer for the retriever than prose
            m.put("in_step_query_chars_mean", retrievals.stream().mapToInt(r -> r.query().length()).average().orElse(0));
        }
        return m;
    }
}
