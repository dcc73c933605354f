package dev.memlong.runtime.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * What this machine reaches through the decode step's own product kernel ({@link PanelKernels#matmul} on a {@link
 * WorkerPool}), for the benchmarks' rooflines (through {@link DecodeKernelProbe}).
 *
 * <p>Why: a roofline taken from PyTorch alone was no ceiling here. On this project's AMD CPU, PyTorch's float32 GEMM
 * ran at ~210 GFLOP/s on two threads and its {@code sum()} read ~45 GB/s, while the packed kernel (AVX-512 through the
 * Vector API) runs a 32-row product at ~390 GFLOP/s and a one-row product reads its weights at ~60 GB/s, so {@code
 * bench batching} reported up to 1.02 of "the roofline". Timing the runtime's own kernel makes the ceiling at least
 * what this code reaches.
 */
final class KernelProbe {

    private KernelProbe() {}

    /**
     * Bytes per second of one activation row against {@code bytes} of packed weights (how a one-sequence decode step
     * reads its weights), one figure per run after warm-up.
     */
    static double[] streamBytesPerSecond(WorkerPool pool, long bytes, int runs) {
        int in = 2048;
        int out = (int) Math.max(PanelKernels.PANEL, bytes / ((long) in * Float.BYTES) / PanelKernels.PANEL
                * PanelKernels.PANEL);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = arena.allocate((long) out * in * Float.BYTES, 64); // zeroed: every page touched
            float[] x = new float[in];
            float[] y = new float[out];
            warmUp(pool);
            PanelKernels.matmul(pool, w, in, null, x, 1, y, out, false); // first touch of the caches' state
            double[] rates = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                PanelKernels.matmul(pool, w, in, null, x, 1, y, out, false);
                rates[i] = (double) out * in * Float.BYTES / ((System.nanoTime() - t0) / 1e9);
            }
            return rates;
        }
    }

    /** FLOP per second of an {@code n x n} by {@code n x n} product (2 FLOPs a multiply-add), one figure per run. */
    static double[] matmulFlopsPerSecond(WorkerPool pool, int n, int runs) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = arena.allocate((long) n * n * Float.BYTES, 64);
            for (long i = 0; i < (long) n * n; i++) {
                w.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (i % 17) * 0.01f);
            }
            float[] x = new float[n * n];
            for (int i = 0; i < x.length; i++) {
                x[i] = (i % 13) * 0.01f;
            }
            float[] y = new float[n * n];
            warmUp(pool);
            double flops = 2.0 * n * n * n;
            double[] rates = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                PanelKernels.matmul(pool, w, n, null, x, n, y, n, false);
                rates[i] = flops / ((System.nanoTime() - t0) / 1e9);
            }
            return rates;
        }
    }

    /**
     * Small products of 1 to 4 rows until the JIT has compiled the kernels: the interpreter's Vector API fallback is
     * thousands of times slower, and a first large product would time it.
     */
    private static void warmUp(WorkerPool pool) {
        int in = 256;
        int out = 8 * PanelKernels.PANEL;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = arena.allocate((long) out * in * Float.BYTES, 64);
            float[] x = new float[7 * in];
            float[] y = new float[7 * out];
            long until = System.nanoTime() + 1_500_000_000L;
            while (System.nanoTime() < until) {
                PanelKernels.matmul(pool, w, in, null, x, 7, y, out, false); // groups of 4, 2 and 1 rows
            }
        }
    }
}
