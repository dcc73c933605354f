package dev.memlong.runtime.model;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The products of {@link VectorDecoder} on weights repacked in panels of {@link #PANEL} outputs: the packing and the
 * outer-product micro-kernels. (The micro-kernels for 4, 2 and 1 rows are written out, not looped: their sums must
 * stay in registers, which an array of vectors would not.)
 */
final class PanelKernels {

    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final int L = F.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private PanelKernels() {}

    /** Outputs per panel of packed weights: two vectors. */
    static final int PANEL = 2 * L;
    private static final long VECTOR_BYTES = (long) L * Float.BYTES;
    private static final long PANEL_BYTES = (long) PANEL * Float.BYTES;

    /**
     * Repacks {@code W [out, in]} for {@link #packedMatmul}: {@code ceil(out / PANEL)} panels, panel {@code p} holding
     * {@code W[p·PANEL + c, i]} at {@code [i][c]} (zero past {@code out}), so a panel is one sequential stream.
     */
    static MemorySegment pack(MemorySegment w, int out, int in, Arena arena) {
        int panels = (out + PANEL - 1) / PANEL;
        MemorySegment packed = arena.allocate((long) panels * in * PANEL * Float.BYTES, 64);
        for (int pj = 0; pj < panels; pj++) {
            long base = (long) pj * in * PANEL;
            for (int c = 0; c < PANEL && pj * PANEL + c < out; c++) {
                long row = (long) (pj * PANEL + c) * in;
                for (int i = 0; i < in; i++) {
                    packed.setAtIndex(FLOAT, base + (long) i * PANEL + c, w.getAtIndex(FLOAT, row + i));
                }
            }
        }
        return packed;
    }

    /**
     * {@code y (+)= x · Wᵀ + bias} for {@code rows} rows over weights {@link #pack packed} for {@code out} outputs, the
     * output panels split over the pool in blocks, eight per thread, so that a thread slowed by other processes costs
     * little: the products of {@link VectorDecoder}, and what {@link KernelProbe} times.
     */
    static void matmul(WorkerPool pool, MemorySegment w, int in, MemorySegment bias, float[] x, int rows, float[] y,
                       int out, boolean accumulate) {
        int panels = (out + PANEL - 1) / PANEL;
        int tasks = Math.max(1, Math.min(pool.threads() * 8, panels));
        int perTask = (panels + tasks - 1) / tasks;
        int n = (panels + perTask - 1) / perTask;
        pool.forEach(n, t -> packedMatmul(w, in, bias, x, rows, y, out, t * perTask, Math.min(panels, (t + 1) * perTask),
                accumulate));
    }

    /**
     * {@link VectorKernels#matmul} over weights {@link #pack packed} in panels, for output panels {@code [p0, p1)}: an outer-product
     * micro-kernel keeps {@code rows x PANEL} sums in registers (no horizontal reductions), streams each panel once
     * per group of rows sequentially (the hardware prefetcher overlaps the stream with the arithmetic) and reads
     * activations as broadcasts. Measured here (2 threads, the ~110M model alone, {@code bench batching}): decode
     * steps of 4/16/32 rows in 15.1/30.0/48.2 ms against 24.1/38.1/68.1 ms with {@link VectorKernels#matmul}. Each output is one
     * sequential sum over {@code i} whatever the batch, so a row's result does not depend on the rows beside it.
     */
    static void packedMatmul(MemorySegment p, int in, MemorySegment bias, float[] x, int rows, float[] y, int out,
                             int p0, int p1, boolean accumulate) {
        for (int pj = p0; pj < p1; pj++) {
            int j = pj * PANEL;
            int valid = Math.min(PANEL, out - j);
            long base = (long) pj * in * PANEL_BYTES;
            if (valid == PANEL) {
                panel(p, base, in, x, rows, y, out, j, accumulate);
            } else {
                // the last panel of an output width that is no multiple of PANEL: into a scratch block first
                float[] sums = new float[rows * PANEL];
                panel(p, base, in, x, rows, sums, PANEL, 0, false);
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < valid; c++) {
                        int o = r * out + j + c;
                        y[o] = accumulate ? y[o] + sums[r * PANEL + c] : sums[r * PANEL + c];
                    }
                }
            }
        }
        if (bias != null) {
            int j1 = Math.min(out, p1 * PANEL);
            for (int rr = 0; rr < rows; rr++) {
                for (int jj = p0 * PANEL; jj < j1; jj++) {
                    y[rr * out + jj] += bias.getAtIndex(FLOAT, jj);
                }
            }
        }
    }

    /**
     * Every row against one whole panel, in groups of 4, 2 and 1 rows. (Groups of 8, 16 accumulators, ran as fast in
     * a kernel benchmark but, compiled inside the decode step, fell back to non-intrinsic vector code: 3x slower.)
     */
    private static void panel(MemorySegment p, long base, int in, float[] x, int rows, float[] y, int out, int j,
                              boolean acc) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            micro4(p, base, in, x, r, y, out, j, acc);
        }
        for (; r + 2 <= rows; r += 2) {
            micro2(p, base, in, x, r, y, out, j, acc);
        }
        for (; r < rows; r++) {
            micro1(p, base, in, x, r, y, out, j, acc);
        }
    }

    /** Stores (or adds, for a residual) one row's panel of sums {@code a|b} at {@code y[o..o+PANEL)}. */
    private static void store(float[] y, int o, FloatVector a, FloatVector b, boolean acc) {
        if (acc) {
            a = a.add(FloatVector.fromArray(F, y, o));
            b = b.add(FloatVector.fromArray(F, y, o + L));
        }
        a.intoArray(y, o);
        b.intoArray(y, o + L);
    }

    /** 4 activation rows from {@code r} against one packed panel (see {@link #packedMatmul}). */
    private static void micro4(MemorySegment p, long base, int in, float[] x, int r, float[] y, int out, int j,
                               boolean acc) {
        int x0 = r * in;
        int x1 = x0 + 1 * in;
        int x2 = x0 + 2 * in;
        int x3 = x0 + 3 * in;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z;
        FloatVector a1 = z, b1 = z;
        FloatVector a2 = z, b2 = z;
        FloatVector a3 = z, b3 = z;
        long at = base;
        for (int i = 0; i < in; i++, at += PANEL_BYTES) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, p, at, ORDER);
            FloatVector w1 = FloatVector.fromMemorySegment(F, p, at + VECTOR_BYTES, ORDER);
            FloatVector u;
            u = FloatVector.broadcast(F, x[x0 + i]);
            a0 = w0.fma(u, a0);
            b0 = w1.fma(u, b0);
            u = FloatVector.broadcast(F, x[x1 + i]);
            a1 = w0.fma(u, a1);
            b1 = w1.fma(u, b1);
            u = FloatVector.broadcast(F, x[x2 + i]);
            a2 = w0.fma(u, a2);
            b2 = w1.fma(u, b2);
            u = FloatVector.broadcast(F, x[x3 + i]);
            a3 = w0.fma(u, a3);
            b3 = w1.fma(u, b3);
        }
        int o = r * out + j;
        store(y, o + 0 * out, a0, b0, acc);
        store(y, o + 1 * out, a1, b1, acc);
        store(y, o + 2 * out, a2, b2, acc);
        store(y, o + 3 * out, a3, b3, acc);
    }

    /** 2 activation rows from {@code r} against one packed panel (see {@link #packedMatmul}). */
    private static void micro2(MemorySegment p, long base, int in, float[] x, int r, float[] y, int out, int j,
                               boolean acc) {
        int x0 = r * in;
        int x1 = x0 + 1 * in;
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z;
        FloatVector a1 = z, b1 = z;
        long at = base;
        for (int i = 0; i < in; i++, at += PANEL_BYTES) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, p, at, ORDER);
            FloatVector w1 = FloatVector.fromMemorySegment(F, p, at + VECTOR_BYTES, ORDER);
            FloatVector u;
            u = FloatVector.broadcast(F, x[x0 + i]);
            a0 = w0.fma(u, a0);
            b0 = w1.fma(u, b0);
            u = FloatVector.broadcast(F, x[x1 + i]);
            a1 = w0.fma(u, a1);
            b1 = w1.fma(u, b1);
        }
        int o = r * out + j;
        store(y, o + 0 * out, a0, b0, acc);
        store(y, o + 1 * out, a1, b1, acc);
    }

    /** 1 activation row from {@code r} against one packed panel (see {@link #packedMatmul}). */
    private static void micro1(MemorySegment p, long base, int in, float[] x, int r, float[] y, int out, int j,
                               boolean acc) {
        int x0 = r * in;

        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, b0 = z;
        long at = base;
        for (int i = 0; i < in; i++, at += PANEL_BYTES) {
            FloatVector w0 = FloatVector.fromMemorySegment(F, p, at, ORDER);
            FloatVector w1 = FloatVector.fromMemorySegment(F, p, at + VECTOR_BYTES, ORDER);
            FloatVector u;
            u = FloatVector.broadcast(F, x[x0 + i]);
            a0 = w0.fma(u, a0);
            b0 = w1.fma(u, b0);
        }
        int o = r * out + j;
        store(y, o + 0 * out, a0, b0, acc);
    }
}
