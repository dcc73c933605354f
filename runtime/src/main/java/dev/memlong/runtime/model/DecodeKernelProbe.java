package dev.memlong.runtime.model;

import ai.djl.ndarray.types.DataType;
import java.util.Optional;

/**
 * Memory bandwidth and matmul throughput as this runtime's Java decode step reaches them on this machine (its packed
 * product kernel, on as many threads as the model uses), for benchmarks that compare against a roofline: a ceiling
 * measured through another library alone may sit below what this runtime's own code reaches (see {@code KernelProbe}
 * in {@code src/main/java22}).
 */
public final class DecodeKernelProbe {

    private static final String PROBE = "dev.memlong.runtime.model.KernelProbe";

    /**
     * One figure per timed run.
     *
     * @param bandwidthBytesPerS one row against 512 MiB of packed float32 weights (a one-sequence decode step's reads)
     * @param matmulFlopsPerS    a 2048 x 2048 by 2048 x 2048 float32 product
     */
    public record Rates(double[] bandwidthBytesPerS, double[] matmulFlopsPerS) {}

    /** What the figures measure, for reports. */
    public static final String METHOD = "the runtime's Java decode kernel (packed panels, Vector API): one row x "
            + "512 MiB of float32 weights for bandwidth (median of 9), 2048x2048 x 2048x2048 for matmul (median of 5)";

    private DecodeKernelProbe() {}

    /**
     * Measures, on {@link JavaDecode#threads()} threads; empty where the Java decode step is not available (JDK 21,
     * no {@code jdk.incubator.vector}, or {@code -Dmemlong.java-decode=false}). Takes a few seconds (warm-up
     * included) and 512 MiB of native memory while it runs.
     */
    public static Optional<Rates> measure() {
        if (!JavaDecode.available(DataType.FLOAT32)) {
            return Optional.empty();
        }
        try (WorkerPool pool = new WorkerPool(JavaDecode.threads(), "memlong-probe")) {
            Class<?> probe = Class.forName(PROBE);
            double[] bandwidth = (double[]) probe.getDeclaredMethod("streamBytesPerSecond", WorkerPool.class,
                    long.class, int.class).invoke(null, pool, 512L << 20, 9);
            double[] matmul = (double[]) probe.getDeclaredMethod("matmulFlopsPerSecond", WorkerPool.class, int.class,
                    int.class).invoke(null, pool, 2048, 5);
            return Optional.of(new Rates(bandwidth, matmul));
        } catch (ReflectiveOperationException e) {
            throw JavaDecode.failure(e, "the decode kernel probe");
        }
    }
}
