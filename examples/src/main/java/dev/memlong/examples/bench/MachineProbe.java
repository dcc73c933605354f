package dev.memlong.examples.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.memlong.runtime.engine.Engines;

/**
 * What this machine can do through DJL/PyTorch with the threads PyTorch was given: memory-read bandwidth (summing a
 * float32 array far larger than the caches) and float32 matmul throughput (a large square matmul).
 */
public final class MachineProbe {

    /** How bandwidth is measured, for the report. */
    public static final String BANDWIDTH_METHOD = "PyTorch sum() over a 512 MiB float32 array (via DJL), median of 9";
    /** How matmul throughput is measured, for the report. */
    public static final String MATMUL_METHOD = "PyTorch matmul 2048x2048 x 2048x2048 float32 (via DJL), median of 7";

    private static final long BANDWIDTH_FLOATS = 128L << 20;   // 512 MiB
    private static final int MATMUL_N = 2048;

    /** Measured figures; the medians feed the rooflines. */
    public record Result(double bandwidthBytesPerS, double bandwidthBestBytesPerS, double matmulFlopsPerS,
                  double matmulBestFlopsPerS) {}

    private MachineProbe() {}

    public static Result measure() {
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            double[] bw = bandwidth(m);
            double[] mm = matmul(m);
            return new Result(Samples.median(bw), Samples.max(bw), Samples.median(mm), Samples.max(mm));
        }
    }

    private static double[] bandwidth(NDManager m) {
        try (NDArray a = m.ones(new Shape(BANDWIDTH_FLOATS), DataType.FLOAT32)) {
            double bytes = BANDWIDTH_FLOATS * (double) Float.BYTES;
            for (int i = 0; i < 2; i++) {
                sum(a);
            }
            double[] rates = new double[9];
            for (int i = 0; i < rates.length; i++) {
                long t0 = System.nanoTime();
                sum(a);
                rates[i] = bytes / ((System.nanoTime() - t0) / 1e9);
            }
            return rates;
        }
    }

    private static void sum(NDArray a) {
        try (NDArray s = a.sum()) {
            if (s.getFloat() < 0) {
                throw new IllegalStateException("a sum of ones was negative");
            }
        }
    }

    private static double[] matmul(NDManager m) {
        try (NDArray a = m.randomNormal(new Shape(MATMUL_N, MATMUL_N));
             NDArray b = m.randomNormal(new Shape(MATMUL_N, MATMUL_N))) {
            double flops = 2.0 * MATMUL_N * MATMUL_N * (double) MATMUL_N;
            for (int i = 0; i < 2; i++) {
                a.matMul(b).close();
            }
            double[] rates = new double[7];
            for (int i = 0; i < rates.length; i++) {
                long t0 = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.getFloat(0, 0);
                }
                rates[i] = flops / ((System.nanoTime() - t0) / 1e9);
            }
            return rates;
        }
    }
}
