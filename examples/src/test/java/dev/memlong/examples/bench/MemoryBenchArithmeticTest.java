package dev.memlong.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemorySettings;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The memory benchmark's arithmetic on numbers worked out by hand. */
class MemoryBenchArithmeticTest {

    @Test
    void bankBytesAreKeysValuesAndEmbeddings() {
        // 110M model: 12 KV heads x 64, bf16, 384-d embeddings. 256k tokens = 2048 chunks of 128.
        KvLayout layout = new KvLayout(12, 64, KvDType.BF16, 384);
        assertEquals(262_144L * 2 * 768 * 2 + 2048L * 384 * 4, MemoryBench.bankBytes(layout, 262_144, 2048));
        assertEquals(805_306_368L + 3_145_728L, MemoryBench.bankBytes(layout, 262_144, 2048));
        // tiny: 3 tokens, 1 chunk; 2 heads of 2, fp32, 5-d: 3*2*4*4 + 1*5*4
        assertEquals(96 + 20, MemoryBench.bankBytes(new KvLayout(2, 2, KvDType.FP32, 5), 3, 1));
    }

    @Test
    void fillGrowthSumsOnlyTheFillPhases() {
        ResidentMemory before = new ResidentMemory(1000, 0, 100);
        // fill 1: 1000 -> 1010; retrieval calls: -> 1500 (not the bank's); fill 2: 1500 -> 1600; calls: -> 1601
        MemoryBenchReport.History h1 = new MemoryBenchReport.History(128, 1, 10, new ResidentMemory(1010, 0, 104),
                null, new ResidentMemory(1500, 0, 104), null);
        MemoryBenchReport.History h2 = new MemoryBenchReport.History(256, 2, 20, new ResidentMemory(1600, 0, 180),
                null, new ResidentMemory(1601, 0, 180), null);
        MemoryBenchReport r = new MemoryBenchReport(null, null, 1, null, 0, 0, 0, before, java.util.List.of(h1, h2),
                null, "", "");
        assertEquals(10, r.fillGrowthBytes(0));
        assertEquals(110, r.fillGrowthBytes(1));
        assertEquals(4, r.fillHeapCommittedGrowthBytes(0));
        assertEquals(80, r.fillHeapCommittedGrowthBytes(1));
    }

    @Test
    void fillFootprintCountsTheLiveHeapNotTheCommittedOne() {
        // before: rss 1000, heap used 50, committed 100. Fill: rss +300 of which the heap committed +250 but only
        // +40 of it is live; the native part is 300 - 250 = 50, so the footprint is 50 + 40 = 90
        ResidentMemory before = new ResidentMemory(1000, 50, 100);
        MemoryBenchReport.History h = new MemoryBenchReport.History(128, 1, 80, new ResidentMemory(1300, 90, 350),
                null, new ResidentMemory(1310, 90, 350), null);
        MemoryBenchReport r = new MemoryBenchReport(null, null, 1, null, 0, 0, 0, before, java.util.List.of(h),
                null, "", "");
        assertEquals(300, r.fillGrowthBytes(0));
        assertEquals(40, r.fillHeapUsedGrowthBytes(0));
        assertEquals(90, r.fillFootprintBytes(0));
        assertTrue(r.rssFillMet(0), "90 bytes against a bank of 80 plus 10% plus 32 MiB");
        // committed heap that is not resident makes the outside part negative: counted as 0, never subtracted
        MemoryBenchReport.History untouched = new MemoryBenchReport.History(128, 1, 80,
                new ResidentMemory(1100, 90, 350), null, new ResidentMemory(1100, 90, 350), null);
        MemoryBenchReport u = new MemoryBenchReport(null, null, 1, null, 0, 0, 0, before,
                java.util.List.of(untouched), null, "", "");
        assertEquals(40, u.fillFootprintBytes(0));
        // a bank whose live heap is 64 MiB over its bytes fails
        MemoryBenchReport.History fat = new MemoryBenchReport.History(128, 1, 80,
                new ResidentMemory(1000 + (64L << 20), 50 + (64L << 20), 100 + (64L << 20)), null,
                new ResidentMemory(1000 + (64L << 20), 50 + (64L << 20), 100 + (64L << 20)), null);
        assertFalse(new MemoryBenchReport(null, null, 1, null, 0, 0, 0, before, java.util.List.of(fat), null, "", "")
                .rssFillMet(0));
    }

    @Test
    void percentileIsTheNearestRank() {
        double[] v = {5, 1, 4, 2, 3};
        assertEquals(1, Samples.percentile(v, 0));
        assertEquals(1, Samples.percentile(v, 20));      // ceil(1.0) = rank 1
        assertEquals(2, Samples.percentile(v, 21));      // ceil(1.05) = rank 2
        assertEquals(3, Samples.percentile(v, 50));      // ceil(2.5) = rank 3
        assertEquals(5, Samples.percentile(v, 99));
        assertEquals(5, Samples.percentile(v, 100));
        double[] steps = new double[256];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = i + 1;                             // 1..256 ms
        }
        assertEquals(254, Samples.percentile(steps, 99), "p99 of 256 steps is the third-slowest");
        assertEquals(128, Samples.percentile(steps, 50));
        assertEquals(3, Samples.mean(new double[] {1, 2, 6}), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Samples.percentile(new double[0], 50));
        assertThrows(IllegalArgumentException.class, () -> Samples.percentile(v, 101));
    }

    @Test
    void parsesVmRssFromProcStatus() {
        String status = "Name:\tjava\nVmPeak:\t 9999 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n";
        assertEquals(123_456L * 1024, ResidentMemory.parseVmRss(status));
        assertThrows(IllegalArgumentException.class, () -> ResidentMemory.parseVmRss("Name:\tjava\n"));
    }

    @Test
    void approximateGaussianHasUnitVarianceAndZeroMean() {
        assertEquals(-2 * Math.sqrt(3) + 4 * 0.5 / 65536 * Math.sqrt(3), SyntheticHistory.approxGaussian(0), 1e-12);
        SplittableRandom r = new SplittableRandom(1);
        int n = 200_000;
        double sum = 0;
        double sq = 0;
        for (int i = 0; i < n; i++) {
            double x = SyntheticHistory.approxGaussian(r.nextLong());
            assertTrue(Math.abs(x) <= 2 * Math.sqrt(3));
            sum += x;
            sq += x * x;
        }
        assertEquals(0, sum / n, 0.01);
        assertEquals(1, sq / n, 0.01);
    }

    @Test
    void planKeepsEveryDecodeRoundInsideTheWindow() {
        MemoryBenchPlan p = MemoryBenchPlan.standard();
        assertTrue(p.promptTokens() + p.warmupSteps() + p.decodeSteps() / p.rounds() <= p.window());
        assertThrows(IllegalArgumentException.class,
                () -> new MemoryBenchPlan(new int[] {4096}, 256, 200, 16, 128, 2, 1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new MemoryBenchPlan(new int[] {4096}, 2048, 512, 16, 255, 2, 1, 1, 1, 1));
        assertThrows(IllegalArgumentException.class,
                () -> new MemoryBenchPlan(new int[] {8192, 4096}, 2048, 512, 16, 256, 2, 1, 1, 1, 1));
    }

    @Test
    void standardPlanTimesWholeChunkCyclesWithManyRetrievalSteps() {
        MemoryBenchPlan p = MemoryBenchPlan.standard();
        p.requireWholeChunkCycles(128);
        // one retrieval step per 128-token chunk: the old plan (256 steps) timed two per history length
        assertTrue(p.decodeSteps() / 128 >= 16, "retrieval steps per configuration: " + p.decodeSteps() / 128);
        assertThrows(IllegalArgumentException.class,
                () -> new MemoryBenchPlan(new int[] {4096}, 2048, 512, 16, 400, 2, 1, 1, 1, 1).requireWholeChunkCycles(128));
    }

    /** {@code cycles} chunk cycles of 128 steps at {@code plainMs}, the 100th step of each a retrieval step. */
    private static DecodeSteps cycles(int cycles, double plainMs, double retrievalMs, long rssGrowth) {
        double[] ms = new double[cycles * 128];
        boolean[] retrieved = new boolean[ms.length];
        for (int i = 0; i < ms.length; i++) {
            retrieved[i] = i % 128 == 100;
            ms[i] = retrieved[i] ? retrievalMs : plainMs;
        }
        return new DecodeSteps(ms, retrieved, List.of(), new long[] {rssGrowth}, new long[] {0});
    }

    private static MemoryBenchReport report(DecodeSteps shortest, DecodeSteps longest, long rss) {
        RetrievalCost cost = new RetrievalCost(new double[] {5}, new double[] {1}, new double[] {1}, new double[] {1});
        ResidentMemory m = new ResidentMemory(rss, 100, 200);
        List<MemoryBenchReport.History> h = List.of(
                new MemoryBenchReport.History(4096, 32, 1 << 20, m, cost, m, shortest),
                new MemoryBenchReport.History(262144, 2048, 64 << 20, m, cost, m, longest));
        MemorySettings settings = new MemorySettings(2, List.of(2, 3), 128, 8, 2048, 1 << 20, EvictionPolicy.FREQUENCY,
                KvDType.BF16);
        return new MemoryBenchReport(MemoryBenchPlan.standard(), settings, 2, new float[] {1, 1}, 0, 0, 0, m, h,
                cycles(2, 10, 10, 0), "", "");
    }

    @Test
    void decodeTargetsSeeTheRetrievalSteps() {
        // retrieval 30x dearer at the longest history: p50 and p99 of the steps cannot tell (1 step in 128)
        MemoryBenchReport r = report(cycles(16, 10, 20, 0), cycles(16, 10, 600, 0), 1 << 30);
        assertEquals(1.0, r.decodeP50Ratio(), 1e-12);
        assertEquals(1.0, r.decodeP99Ratio(), 1e-12);
        assertEquals((127 * 10 + 600) / (127 * 10 + 20.0), r.perTokenRatio(), 1e-12);
        assertEquals(30.0, r.retrievalStepRatio(50), 1e-12);
        Map<String, Object> t = r.targets();
        assertEquals(false, t.get("decode_per_token_longest_within_1_25x_of_shortest"));
        assertEquals(false, t.get("retrieval_step_p50_longest_within_1_25x_of_shortest"));
        assertEquals(false, t.get("retrieval_step_p99_longest_within_1_25x_of_shortest"));
        Map<String, Object> json = r.toMap();
        assertEquals(Map.of("4096", 20.0, "262144", 600.0), json.get("retrieval_step_ms_p50"));
        assertEquals(Map.of("4096", 16, "262144", 16), json.get("retrieval_steps"));
        // the same cost at both lengths meets them
        MemoryBenchReport even = report(cycles(16, 10, 20, 0), cycles(16, 10, 21, 0), 1 << 30);
        assertTrue(even.targets().values().stream().allMatch(Boolean.TRUE::equals), even.targets().toString());
    }

    @Test
    void retrievalStepBreakdownSplitsEachRetrievalStepIntoItsPhasesAndTheForward() {
        // steps of 10, 50, 12, 40 ms; the 2nd and 4th retrieved: phases (embed, search, gather, upload) of 30+1+2+3
        // and 20+1+1+2 ms, so their forwards took 50-36 = 14 and 40-24 = 16 ms
        List<dev.memlong.runtime.memlong.Retrieval> retrievals = List.of(retrieval("abcd", 30, 1, 2, 3),
                retrieval("abcdefgh", 20, 1, 1, 2));
        DecodeSteps steps = new DecodeSteps(new double[] {10, 50, 12, 40}, new boolean[] {false, true, false, true},
                retrievals, new long[] {0}, new long[] {0});
        Map<String, Object> b = steps.retrievalStepBreakdownMs();
        assertEquals(45.0, (Double) b.get("step"), 1e-9);
        assertEquals(25.0, (Double) b.get("query_embedding"), 1e-9);
        assertEquals(1.0, (Double) b.get("search"), 1e-9);
        assertEquals(1.5, (Double) b.get("gather"), 1e-9);
        assertEquals(2.5, (Double) b.get("upload"), 1e-9);
        assertEquals(15.0, (Double) b.get("forward"), 1e-9);
        assertEquals(6.0, (Double) b.get("query_chars"), 1e-9);
        assertEquals(2, b.get("steps"));
        assertEquals(b, steps.toMap(true).get("retrieval_step_breakdown_mean_ms"));
        // without retrievals recorded for its retrieval steps (or without any) there is no breakdown
        assertNull(new DecodeSteps(new double[] {10, 50}, new boolean[] {false, true}, List.of(), new long[] {0},
                new long[] {0}).retrievalStepBreakdownMs());
        assertNull(new DecodeSteps(new double[] {10}, new boolean[] {false}, List.of(), new long[] {0},
                new long[] {0}).retrievalStepBreakdownMs());
    }

    private static dev.memlong.runtime.memlong.Retrieval retrieval(String query, long embedMs, long searchMs,
                                                                   long gatherMs, long uploadMs) {
        return new dev.memlong.runtime.memlong.Retrieval(0, query, List.of(), new dev.memlong.runtime.memlong.Retrieval
                .Timings(embedMs * 1_000_000, searchMs * 1_000_000, gatherMs * 1_000_000, uploadMs * 1_000_000));
    }

    @Test
    void residentMemoryThatCouldNotBeReadIsNotMeasuredRatherThanMet() {
        // off Linux every RSS reads -1: differences of 0 would read as "no growth", targets met
        MemoryBenchReport r = report(cycles(1, 10, 20, 0), cycles(1, 10, 20, 0), -1);
        assertFalse(r.rssMeasured());
        Map<String, Object> t = r.targets();
        assertTrue(t.containsKey("fill_footprint_within_bank_bytes_plus_10pct_32mb"));
        assertNull(t.get("fill_footprint_within_bank_bytes_plus_10pct_32mb"));
        assertNull(t.get("rss_decode_growth_per_run_after_first_round_under_8mb"));
        Map<String, Object> json = r.toMap();
        assertNull(json.get("rss_mb"));
        assertNull(json.get("rss_growth_mb"));
        assertEquals(false, json.get("rss_measured"));
        java.io.ByteArrayOutputStream table = new java.io.ByteArrayOutputStream();
        r.printTable(new java.io.PrintStream(table, true, java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(table.toString(java.nio.charset.StandardCharsets.UTF_8).contains("not measured"));
        // measured on Linux: the same report's targets are judged
        assertEquals(true, report(cycles(1, 10, 20, 0), cycles(1, 10, 20, 0), 1 << 30).targets()
                .get("fill_footprint_within_bank_bytes_plus_10pct_32mb"));
    }
}
