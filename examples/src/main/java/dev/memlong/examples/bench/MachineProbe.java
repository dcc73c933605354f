package dev.memlong.examples.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.model.DecodeKernelProbe;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What this machine can do, for the benchmarks' rooflines: memory-read bandwidth and float32 matmul throughput, each
 * the higher of two probes — PyTorch through DJL with the threads PyTorch was given (summing a float32 array far larger
 * than the caches; a large square matmul), and this runtime's own Java decode kernel ({@link DecodeKernelProbe}).
 *
 * <p>Why both: until session 13 only PyTorch was probed, and on this project's AMD CPU its GEMM reached ~210 GFLOP/s
 * and its sum ~45 GB/s while the runtime's packed AVX-512 kernel ran products at ~330-390 GFLOP/s and streamed weights
 * at ~60 GB/s, so measurements came out at up to 1.02 of a "roofline" that was no ceiling. A ceiling is at least what
 * the fastest code at hand reaches.
 */
public final class MachineProbe {

    /** How the PyTorch bandwidth figure is measured, for the report. */
    public static final String BANDWIDTH_METHOD = "PyTorch sum() over a 512 MiB float32 array (via DJL), median of 9";
    /** How the PyTorch matmul figure is measured, for the report. */
    public static final String MATMUL_METHOD = "PyTorch matmul 2048x2048 x 2048x2048 float32 (via DJL), median of 7";

    private static final long BANDWIDTH_FLOATS = 128L << 20;   // 512 MiB
    private static final int MATMUL_N = 2048;

    /**
     * Measured figures: the ceilings (the higher probe's median, and the best single run of either) feed the
     * rooflines; each probe's median is kept for the report (NaN where the Java kernel is not available).
     */
    public record Result(double bandwidthBytesPerS, double bandwidthBestBytesPerS, double matmulFlopsPerS,
                         double matmulBestFlopsPerS, double pytorchBandwidthBytesPerS, double javaBandwidthBytesPerS,
                         double pytorchMatmulFlopsPerS, double javaMatmulFlopsPerS) {

        /** Which probe set the bandwidth ceiling. */
        public String bandwidthMethod() {
            return javaBandwidthBytesPerS > pytorchBandwidthBytesPerS ? DecodeKernelProbe.METHOD : BANDWIDTH_METHOD;
        }

        /** Which probe set the matmul ceiling. */
        public String matmulMethod() {
            return javaMatmulFlopsPerS > pytorchMatmulFlopsPerS ? DecodeKernelProbe.METHOD : MATMUL_METHOD;
        }

        /** Each figure the higher of this result's and {@code other}'s (two probes of one run). */
        public Result higher(Result other) {
            return new Result(Math.max(bandwidthBytesPerS, other.bandwidthBytesPerS),
                    Math.max(bandwidthBestBytesPerS, other.bandwidthBestBytesPerS),
                    Math.max(matmulFlopsPerS, other.matmulFlopsPerS),
                    Math.max(matmulBestFlopsPerS, other.matmulBestFlopsPerS),
                    higherOf(pytorchBandwidthBytesPerS, other.pytorchBandwidthBytesPerS),
                    higherOf(javaBandwidthBytesPerS, other.javaBandwidthBytesPerS),
                    higherOf(pytorchMatmulFlopsPerS, other.pytorchMatmulFlopsPerS),
                    higherOf(javaMatmulFlopsPerS, other.javaMatmulFlopsPerS));
        }

        /** The higher of two figures, either of which may be NaN (not measured). */
        static double higherOf(double a, double b) {
            return Double.isNaN(a) ? b : Double.isNaN(b) ? a : Math.max(a, b);
        }

        /** Both probes' medians, for a report's JSON. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bandwidth_gb_s", bandwidthBytesPerS / 1e9);
            m.put("bandwidth_best_gb_s", bandwidthBestBytesPerS / 1e9);
            m.put("bandwidth_method", bandwidthMethod());
            m.put("bandwidth_gb_s_pytorch", pytorchBandwidthBytesPerS / 1e9);
            m.put("bandwidth_gb_s_java_kernel", javaBandwidthBytesPerS / 1e9);
            m.put("matmul_gflop_s", matmulFlopsPerS / 1e9);
            m.put("matmul_best_gflop_s", matmulBestFlopsPerS / 1e9);
            m.put("matmul_method", matmulMethod());
            m.put("matmul_gflop_s_pytorch", pytorchMatmulFlopsPerS / 1e9);
            m.put("matmul_gflop_s_java_kernel", javaMatmulFlopsPerS / 1e9);
            return m;
        }
    }

    private MachineProbe() {}

    public static Result measure() {
        double[] bw;
        double[] mm;
        try (NDManager m = Engines.pytorch().newBaseManager()) {
            bw = bandwidth(m);
            mm = matmul(m);
        }
        Optional<DecodeKernelProbe.Rates> java = DecodeKernelProbe.measure();
        double javaBw = java.map(r -> Samples.median(r.bandwidthBytesPerS())).orElse(Double.NaN);
        double javaMm = java.map(r -> Samples.median(r.matmulFlopsPerS())).orElse(Double.NaN);
        double javaBwBest = java.map(r -> Samples.max(r.bandwidthBytesPerS())).orElse(Double.NaN);
        double javaMmBest = java.map(r -> Samples.max(r.matmulFlopsPerS())).orElse(Double.NaN);
        return new Result(Result.higherOf(Samples.median(bw), javaBw), Result.higherOf(Samples.max(bw), javaBwBest),
                Result.higherOf(Samples.median(mm), javaMm), Result.higherOf(Samples.max(mm), javaMmBest), Samples.median(bw), javaBw,
                Samples.median(mm), javaMm);
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
