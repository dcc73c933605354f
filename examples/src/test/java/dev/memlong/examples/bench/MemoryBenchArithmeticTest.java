package dev.memlong.examples.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
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
}
