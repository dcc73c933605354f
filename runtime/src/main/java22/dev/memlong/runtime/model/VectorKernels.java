package dev.memlong.runtime.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The arithmetic of {@link VectorDecoder}, on the Java Vector API: products with weights held by PyTorch (read in
 * place through {@link MemorySegment}s; products on packed copies are {@link PanelKernels}), attention over cached
 * keys and values, norms and activations, and the lane sums and exp they share. Activations are Java
 * {@code float[]}, row-major. All loops take a scalar tail, so any width works; the benchmark model's
 * widths are multiples of the vector length.
 */
final class VectorKernels {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final long VECTOR_BYTES = (long) L * Float.BYTES;

    private VectorKernels() {}

    /**
     * {@code y[r, j] (+)= Σ_i x[r, i] · W[j, i] + bias[j]} for every row {@code r < rows} and output
     * {@code j in [j0, j1)}: {@code W} is {@code [out, in]} (nn.Linear's layout), so each output is a dot product
     * over a contiguous weight row. Tiles of four activation rows by four weight rows keep 16 accumulators in
     * registers; the four weight rows of a tile are read from memory once and reused from the L1 cache for every
     * block of activation rows, so a batch of rows costs about the weight bytes of one row plus its arithmetic.
     * (Reading a panel of weight rows into L2 first and looping over activation blocks outside it measured no
     * faster, interleaved A/B at 1 and 2 threads.)
     *
     * @param accumulate add to {@code y} (a residual connection) instead of overwriting it
     * @param bias       {@code [out]} or null
     */
    static void matmul(MemorySegment w, int in, MemorySegment bias, float[] x, int rows, float[] y, int out, int j0,
                       int j1, boolean accumulate) {
        int j = j0;
        for (; j + 4 <= j1; j += 4) {
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                tile4x4(w, in, x, r, y, out, j, accumulate);
            }
            for (; r < rows; r++) {
                tile1x4(w, in, x, r, y, out, j, accumulate);
            }
        }
        for (; j < j1; j++) {
            for (int r = 0; r < rows; r++) {
                single(w, in, x, r, y, out, j, accumulate);
            }
        }
        if (bias != null) {
            for (int rr = 0; rr < rows; rr++) {
                for (int jj = j0; jj < j1; jj++) {
                    y[rr * out + jj] += bias.getAtIndex(FLOAT, jj);
                }
            }
        }
    }

    private static final VectorShuffle<Float> ROTATE_1 = VectorShuffle.iota(F, 1, 1, true);
    private static final VectorShuffle<Float> ROTATE_2 = VectorShuffle.iota(F, 2 % L, 1, true);
    private static final VectorShuffle<Float> ROTATE_4 = VectorShuffle.iota(F, 4 % L, 1, true);
    private static final VectorShuffle<Float> ROTATE_8 = VectorShuffle.iota(F, 8 % L, 1, true);

    /**
     * The sum of the lanes, in one fixed order (a tree of lane rotations and adds). Not {@code reduceLanes(ADD)}:
     * its order is unspecified and differs between the interpreter's fallback and the JIT's intrinsic, so a kernel
     * gave other last bits before and after it was compiled, and a restored conversation no longer continued bit for
     * bit as its twin.
     */
    static float sum(FloatVector v) {
        if (L > 16) {
            float s = 0;
            for (int i = 0; i < L; i++) {
                s += v.lane(i);
            }
            return s;
        }
        if (L >= 16) {
            v = v.add(v.rearrange(ROTATE_8));
        }
        if (L >= 8) {
            v = v.add(v.rearrange(ROTATE_4));
        }
        if (L >= 4) {
            v = v.add(v.rearrange(ROTATE_2));
        }
        if (L >= 2) {
            v = v.add(v.rearrange(ROTATE_1));
        }
        return v.lane(0);
    }

    // exp as Cephes' expf computes it (range reduction by ln 2, a degree-7 polynomial), from exactly rounded operations
    // only, so every JIT tier computes the same bits: lanewise(EXP) is an intrinsic in compiled code and Math.exp per
    // lane in the interpreter's fallback, and they differ in the last bit.
    private static final float EXP_LO = -87.3f;
    private static final float EXP_HI = 88.3f; // 2^n stays a normal float
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /** {@code e^x} per lane: within a few ulp of {@link Math#exp}, the same bits in every JIT tier as {@link #exp(float)}. */
    static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(EXP_LO).min(EXP_HI);
        FloatVector fx = xc.fma(LOG2E, 0.5f);
        FloatVector nf = (FloatVector) fx.convert(VectorOperators.F2I, 0).convert(VectorOperators.I2F, 0);
        nf = nf.sub(FloatVector.zero(F).blend(1f, nf.compare(VectorOperators.GT, fx))); // floor
        FloatVector r = nf.fma(FloatVector.broadcast(F, -LN2_HI), xc);
        r = nf.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(F, P2));
        p = p.fma(r, FloatVector.broadcast(F, P3));
        p = p.fma(r, FloatVector.broadcast(F, P4));
        p = p.fma(r, FloatVector.broadcast(F, P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector n = (IntVector) nf.convert(VectorOperators.F2I, 0);
        FloatVector pow2 = n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        y = y.mul(pow2);
        y = y.blend(0f, x.compare(VectorOperators.LT, EXP_LO));
        return y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, EXP_HI));
    }

    /** {@link #exp(FloatVector)} of one value, the same operations in the same order. */
    static float exp(float x) {
        float xc = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float fx = Math.fma(xc, LOG2E, 0.5f);
        float nf = (float) (int) fx;
        if (nf > fx) {
            nf -= 1f;
        }
        float r = Math.fma(nf, -LN2_HI, xc);
        r = Math.fma(nf, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        y *= Float.intBitsToFloat(((int) nf + 127) << 23);
        if (x < EXP_LO) {
            return 0f;
        }
        return x > EXP_HI ? Float.POSITIVE_INFINITY : y;
    }

    private static void single(MemorySegment w, int in, float[] x, int r, float[] y, int out, int j, boolean acc) {
        float s = dot(w, (long) j * in, x, r * in, in);
        int o = r * out + j;
        y[o] = acc ? y[o] + s : s;
    }

    private static void tile1x4(MemorySegment w, int in, float[] x, int r, float[] y, int out, int j, boolean acc) {
        long w0 = (long) j * in * Float.BYTES;
        long stride = (long) in * Float.BYTES;
        long w1 = w0 + stride;
        long w2 = w1 + stride;
        long w3 = w2 + stride;
        int xo = r * in;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int bound = F.loopBound(in);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xo + i);
            long b = (long) i * Float.BYTES;
            a0 = FloatVector.fromMemorySegment(F, w, w0 + b, ORDER).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, w, w1 + b, ORDER).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, w, w2 + b, ORDER).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, w, w3 + b, ORDER).fma(xv, a3);
        }
        finish(w, in, x, xo, i, y, r * out + j, w0, w1, w2, w3, acc, a0, a1, a2, a3);
    }

    /** Four activation rows against four weight rows: 16 accumulators, 8 loads per 16 FMAs. */
    private static void tile4x4(MemorySegment w, int in, float[] x, int r, float[] y, int out, int j, boolean acc) {
        long w0 = (long) j * in * Float.BYTES;
        long stride = (long) in * Float.BYTES;
        long w1 = w0 + stride;
        long w2 = w1 + stride;
        long w3 = w2 + stride;
        int x0 = r * in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        int x3 = x2 + in;
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
        FloatVector a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z;
        FloatVector a30 = z, a31 = z, a32 = z, a33 = z;
        int bound = F.loopBound(in);
        int i = 0;
        for (; i < bound; i += L) {
            long b = (long) i * Float.BYTES;
            FloatVector v0 = FloatVector.fromMemorySegment(F, w, w0 + b, ORDER);
            FloatVector v1 = FloatVector.fromMemorySegment(F, w, w1 + b, ORDER);
            FloatVector v2 = FloatVector.fromMemorySegment(F, w, w2 + b, ORDER);
            FloatVector v3 = FloatVector.fromMemorySegment(F, w, w3 + b, ORDER);
            FloatVector u = FloatVector.fromArray(F, x, x0 + i);
            a00 = v0.fma(u, a00);
            a01 = v1.fma(u, a01);
            a02 = v2.fma(u, a02);
            a03 = v3.fma(u, a03);
            u = FloatVector.fromArray(F, x, x1 + i);
            a10 = v0.fma(u, a10);
            a11 = v1.fma(u, a11);
            a12 = v2.fma(u, a12);
            a13 = v3.fma(u, a13);
            u = FloatVector.fromArray(F, x, x2 + i);
            a20 = v0.fma(u, a20);
            a21 = v1.fma(u, a21);
            a22 = v2.fma(u, a22);
            a23 = v3.fma(u, a23);
            u = FloatVector.fromArray(F, x, x3 + i);
            a30 = v0.fma(u, a30);
            a31 = v1.fma(u, a31);
            a32 = v2.fma(u, a32);
            a33 = v3.fma(u, a33);
        }
        int o = r * out + j;
        finish(w, in, x, x0, i, y, o, w0, w1, w2, w3, acc, a00, a01, a02, a03);
        finish(w, in, x, x1, i, y, o + out, w0, w1, w2, w3, acc, a10, a11, a12, a13);
        finish(w, in, x, x2, i, y, o + 2 * out, w0, w1, w2, w3, acc, a20, a21, a22, a23);
        finish(w, in, x, x3, i, y, o + 3 * out, w0, w1, w2, w3, acc, a30, a31, a32, a33);
    }

    /** Reduces one activation row's four accumulators, adds the scalar tail from {@code from} and stores them. */
    private static void finish(MemorySegment w, int in, float[] x, int xo, int from, float[] y, int o, long w0, long w1,
                               long w2, long w3, boolean acc, FloatVector a0, FloatVector a1, FloatVector a2,
                               FloatVector a3) {
        float s0 = sum(a0);
        float s1 = sum(a1);
        float s2 = sum(a2);
        float s3 = sum(a3);
        for (int k = from; k < in; k++) {
            float xi = x[xo + k];
            long b = (long) k * Float.BYTES;
            s0 += xi * w.get(FLOAT, w0 + b);
            s1 += xi * w.get(FLOAT, w1 + b);
            s2 += xi * w.get(FLOAT, w2 + b);
            s3 += xi * w.get(FLOAT, w3 + b);
        }
        store4(y, o, s0, s1, s2, s3, acc);
    }

    private static void store4(float[] y, int o, float s0, float s1, float s2, float s3, boolean acc) {
        if (acc) {
            y[o] += s0;
            y[o + 1] += s1;
            y[o + 2] += s2;
            y[o + 3] += s3;
        } else {
            y[o] = s0;
            y[o + 1] = s1;
            y[o + 2] = s2;
            y[o + 3] = s3;
        }
    }

    /** {@code Σ_i seg[i] · x[xo + i]} over {@code n} floats of {@code seg} from float index {@code segIndex}. */
    static float dot(MemorySegment seg, long segIndex, float[] x, int xo, int n) {
        long base = segIndex * Float.BYTES;
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            acc = FloatVector.fromMemorySegment(F, seg, base + (long) i * Float.BYTES, ORDER)
                    .fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float s = sum(acc);
        for (; i < n; i++) {
            s += seg.get(FLOAT, base + (long) i * Float.BYTES) * x[xo + i];
        }
        return s;
    }

    /**
     * {@code out[oo + i] += Σ_t p[po + t] · seg[(segIndex + t) · n + i]} for {@code i < n}: the probability-weighted
     * sum of {@code count} consecutive rows of {@code n} floats (attention's values). Four vectors of the output stay in
     * registers through one pass over the rows (a head of 64 floats in one pass, not four), each output summed over
     * {@code t} in order.
     */
    static void weightedRows(float[] p, int po, int count, MemorySegment seg, long segIndex, int n, float[] out,
                             int oo) {
        long base = segIndex * n * Float.BYTES;
        long stride = (long) n * Float.BYTES;
        int bound = F.loopBound(n);
        int i = 0;
        for (; i + 4 * L <= bound; i += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, out, oo + i);
            FloatVector a1 = FloatVector.fromArray(F, out, oo + i + L);
            FloatVector a2 = FloatVector.fromArray(F, out, oo + i + 2 * L);
            FloatVector a3 = FloatVector.fromArray(F, out, oo + i + 3 * L);
            long at = base + (long) i * Float.BYTES;
            for (int t = 0; t < count; t++, at += stride) {
                FloatVector pt = FloatVector.broadcast(F, p[po + t]);
                a0 = FloatVector.fromMemorySegment(F, seg, at, ORDER).fma(pt, a0);
                a1 = FloatVector.fromMemorySegment(F, seg, at + VECTOR_BYTES, ORDER).fma(pt, a1);
                a2 = FloatVector.fromMemorySegment(F, seg, at + 2 * VECTOR_BYTES, ORDER).fma(pt, a2);
                a3 = FloatVector.fromMemorySegment(F, seg, at + 3 * VECTOR_BYTES, ORDER).fma(pt, a3);
            }
            a0.intoArray(out, oo + i);
            a1.intoArray(out, oo + i + L);
            a2.intoArray(out, oo + i + 2 * L);
            a3.intoArray(out, oo + i + 3 * L);
        }
        for (; i < bound; i += L) {
            FloatVector acc = FloatVector.fromArray(F, out, oo + i);
            long at = base + (long) i * Float.BYTES;
            for (int t = 0; t < count; t++, at += stride) {
                acc = FloatVector.fromMemorySegment(F, seg, at, ORDER).fma(FloatVector.broadcast(F, p[po + t]), acc);
            }
            acc.intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float s = out[oo + i];
            long at = base + (long) i * Float.BYTES;
            for (int t = 0; t < count; t++, at += stride) {
                s += p[po + t] * seg.get(FLOAT, at);
            }
            out[oo + i] = s;
        }
    }

    /**
     * {@code s[so + t] = Σ_i x[xo + i] · seg[(segIndex + t) · n + i]} for {@code t < count}: a query's scores against
     * {@code count} consecutive key rows of {@code n} floats. Keys go four at a time (four independent sums, each query
     * vector loaded once for the four); each score is computed exactly as {@link #dot} computes it.
     */
    static void rowDots(MemorySegment seg, long segIndex, int count, int n, float[] x, int xo, float[] s, int so) {
        long stride = (long) n * Float.BYTES;
        long base = segIndex * n * Float.BYTES;
        int bound = F.loopBound(n);
        int t = 0;
        for (; t + 4 <= count; t += 4) {
            long r0 = base + t * stride;
            long r1 = r0 + stride;
            long r2 = r1 + stride;
            long r3 = r2 + stride;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int i = 0; i < bound; i += L) {
                FloatVector q = FloatVector.fromArray(F, x, xo + i);
                long b = (long) i * Float.BYTES;
                a0 = FloatVector.fromMemorySegment(F, seg, r0 + b, ORDER).fma(q, a0);
                a1 = FloatVector.fromMemorySegment(F, seg, r1 + b, ORDER).fma(q, a1);
                a2 = FloatVector.fromMemorySegment(F, seg, r2 + b, ORDER).fma(q, a2);
                a3 = FloatVector.fromMemorySegment(F, seg, r3 + b, ORDER).fma(q, a3);
            }
            float s0 = sum(a0);
            float s1 = sum(a1);
            float s2 = sum(a2);
            float s3 = sum(a3);
            for (int i = bound; i < n; i++) {
                long b = (long) i * Float.BYTES;
                float q = x[xo + i];
                s0 += seg.get(FLOAT, r0 + b) * q;
                s1 += seg.get(FLOAT, r1 + b) * q;
                s2 += seg.get(FLOAT, r2 + b) * q;
                s3 += seg.get(FLOAT, r3 + b) * q;
            }
            s[so + t] = s0;
            s[so + t + 1] = s1;
            s[so + t + 2] = s2;
            s[so + t + 3] = s3;
        }
        for (; t < count; t++) {
            s[so + t] = dot(seg, (segIndex + t) * n, x, xo, n);
        }
    }

    /** Copies {@code n} floats of {@code src} to the segment at float index {@code segIndex}. */
    static void store(float[] src, int so, MemorySegment seg, long segIndex, int n) {
        MemorySegment.copy(src, so, seg, FLOAT, segIndex * Float.BYTES, n);
    }

    /** Copies {@code n} floats of the segment from float index {@code segIndex} into {@code dst}. */
    static void load(MemorySegment seg, long segIndex, float[] dst, int doff, int n) {
        MemorySegment.copy(seg, FLOAT, segIndex * Float.BYTES, dst, doff, n);
    }

    /**
     * Copies {@code n} floats of the segment from float index {@code segIndex} into {@code dst}, in vectors: for many
     * short rows, where {@link #load}'s {@code MemorySegment.copy} costs more per call than the copy itself.
     */
    static void loadRow(MemorySegment seg, long segIndex, float[] dst, int doff, int n) {
        long from = segIndex * Float.BYTES;
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromMemorySegment(F, seg, from + (long) i * Float.BYTES, ORDER).intoArray(dst, doff + i);
        }
        for (; i < n; i++) {
            dst[doff + i] = seg.getAtIndex(FLOAT, segIndex + i);
        }
    }

    /**
     * RMSNorm of one row, in float32 as transformers computes it: {@code x / sqrt(mean(x²) + eps)}, times
     * {@code weight} unless it is null (the layers' norm weights are folded into the projections after them).
     */
    static void rmsNorm(float[] x, int xo, float[] out, int oo, int n, float eps, float[] weight) {
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(F, x, xo + i);
            acc = v.fma(v, acc);
        }
        float ss = sum(acc);
        for (; i < n; i++) {
            ss += x[xo + i] * x[xo + i];
        }
        float rms = (float) Math.sqrt(ss / n + eps);
        for (i = 0; i < n; i++) {
            float v = x[xo + i] / rms;
            out[oo + i] = weight == null ? v : v * weight[i];
        }
    }

    /**
     * Rotary embedding of one head in place, as transformers applies it ({@code x*cos + rotate_half(x)*sin}):
     * {@code cos}/{@code sin} hold the position's row ({@code [d]}, halves repeated) at {@code co}.
     */
    static void rotate(float[] x, int xo, float[] cos, float[] sin, int co, int d) {
        int half = d / 2;
        int bound = F.loopBound(half);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector a = FloatVector.fromArray(F, x, xo + i);
            FloatVector b = FloatVector.fromArray(F, x, xo + half + i);
            a.mul(FloatVector.fromArray(F, cos, co + i)).sub(b.mul(FloatVector.fromArray(F, sin, co + i)))
                    .intoArray(x, xo + i);
            b.mul(FloatVector.fromArray(F, cos, co + half + i)).add(a.mul(FloatVector.fromArray(F, sin, co + half + i)))
                    .intoArray(x, xo + half + i);
        }
        for (; i < half; i++) {
            float a = x[xo + i];
            float b = x[xo + half + i];
            x[xo + i] = a * cos[co + i] - b * sin[co + i];
            x[xo + half + i] = b * cos[co + half + i] + a * sin[co + half + i];
        }
    }

    /**
     * Row {@code src} of a segment of {@code d}-float rows rotated back by the rotary angle at table offset {@code co}
     * (rotation by {@code -p}: {@code x·cos(p) - rotate_half(x)·sin(p)}) into row {@code dst}, another row; float
     * indices. In float32 without fused multiply-adds, so every element is bit for bit what the tensor path computes.
     */
    static void rotateBack(MemorySegment seg, long src, long dst, float[] cos, float[] sin, int co, int d) {
        int half = d / 2;
        int bound = F.loopBound(half);
        long from = src * Float.BYTES;
        long to = dst * Float.BYTES;
        long second = (long) half * Float.BYTES;
        int i = 0;
        for (; i < bound; i += L) {
            long o = (long) i * Float.BYTES;
            FloatVector a = FloatVector.fromMemorySegment(F, seg, from + o, ORDER);
            FloatVector b = FloatVector.fromMemorySegment(F, seg, from + second + o, ORDER);
            a.mul(FloatVector.fromArray(F, cos, co + i)).add(b.mul(FloatVector.fromArray(F, sin, co + i)))
                    .intoMemorySegment(seg, to + o, ORDER);
            b.mul(FloatVector.fromArray(F, cos, co + half + i)).sub(a.mul(FloatVector.fromArray(F, sin, co + half + i)))
                    .intoMemorySegment(seg, to + second + o, ORDER);
        }
        for (; i < half; i++) {
            float a = seg.getAtIndex(FLOAT, src + i);
            float b = seg.getAtIndex(FLOAT, src + half + i);
            seg.setAtIndex(FLOAT, dst + i, a * cos[co + i] + b * sin[co + i]);
            seg.setAtIndex(FLOAT, dst + half + i, b * cos[co + half + i] - a * sin[co + half + i]);
        }
    }

    /** Softmax of {@code s[so..so+n)} in place, in float32. */
    static void softmax(float[] s, int so, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, s[so + i]);
        }
        FloatVector mv = FloatVector.broadcast(F, max);
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector e = exp(FloatVector.fromArray(F, s, so + i).sub(mv));
            e.intoArray(s, so + i);
            acc = acc.add(e);
        }
        float total = sum(acc);
        for (; i < n; i++) {
            float e = exp(s[so + i] - max);
            s[so + i] = e;
            total += e;
        }
        float inv = 1f / total;
        for (i = 0; i < n; i++) {
            s[so + i] *= inv;
        }
    }

    /** {@code out[i] = silu(gu[gate + i]) · gu[up + i]} for {@code i < n}: the SwiGLU of one row. */
    static void swiglu(float[] gu, int gate, int up, float[] out, int oo, int n) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(F, gu, gate + i);
            FloatVector sig = one.div(one.add(exp(g.neg())));
            g.mul(sig).mul(FloatVector.fromArray(F, gu, up + i)).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float g = gu[gate + i];
            out[oo + i] = g / (1f + exp(-g)) * gu[up + i];
        }
    }
}
