package dev.memlong.runtime.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link VectorKernels}' cache-row operations over a bfloat16 KV cache ({@code memlong.model.kv-cache-dtype}): rows
 * are rounded to bfloat16 as they are written (to nearest even, NaN to 0x7FC0: what PyTorch's {@code toType}
 * does, so the tensor path writes the same bits) and widened exactly as they are read; the arithmetic is float32,
 * in the same order as the float32 kernels. Indices count elements, not bytes.
 *
 * <p>Why: a decode step reads every running sequence's whole cache; at the default window of 2,048 tokens that
 * read is most of the step (measured, ~110M model, 2 cores, 16 conversations: attention 60 ms of a ~71 ms step in
 * float32, 34 ms in bfloat16).
 *
 * <p>The methods mirror {@link VectorKernels}' line for line, with {@link #widen} for its loads. They are copies on
 * purpose: one kernel taking the row format as a parameter would make the innermost loads a call that C2 cannot
 * inline once both formats run in one process, and an un-inlined Vector API call boxes its vectors (measured in
 * this project: 3-10x slower kernels).
 */
final class Bf16Kernels {

    private static final VectorSpecies<Float> F = VectorKernels.F;
    private static final int L = F.length();
    /** Shorts of the same lane count as {@link #F}: one load widens to one float vector. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class,
            VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final long VECTOR_BYTES = (long) L * Short.BYTES;
    private static final short NAN = 0x7FC0;

    private Bf16Kernels() {}

    /** The float a bfloat16 holds (exact). */
    static float toFloat(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    /** {@code f} rounded to bfloat16, to nearest even; NaN becomes the quiet NaN 0x7FC0. */
    static short toBf16(float f) {
        if (Float.isNaN(f)) {
            return NAN;
        }
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private static FloatVector widen(MemorySegment seg, long byteOffset) {
        return ((IntVector) ShortVector.fromMemorySegment(S, seg, byteOffset, ORDER)
                .convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static void narrow(FloatVector v, MemorySegment seg, long byteOffset) {
        IntVector bits = v.reinterpretAsInts();
        IntVector rounded = bits.add(0x7FFF).add(bits.lanewise(VectorOperators.LSHR, 16).and(1))
                .lanewise(VectorOperators.LSHR, 16);
        VectorMask<Integer> nan = v.test(VectorOperators.IS_NAN).cast(I);
        rounded = rounded.blend(NAN, nan);
        ((ShortVector) rounded.convertShape(VectorOperators.I2S, S, 0)).intoMemorySegment(seg, byteOffset, ORDER);
    }

    /** Rounds {@code n} floats of {@code src} into the segment at element {@code segIndex}. */
    static void store(float[] src, int so, MemorySegment seg, long segIndex, int n) {
        long to = segIndex * Short.BYTES;
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            narrow(FloatVector.fromArray(F, src, so + i), seg, to + (long) i * Short.BYTES);
        }
        for (; i < n; i++) {
            seg.setAtIndex(SHORT, segIndex + i, toBf16(src[so + i]));
        }
    }

    /** Widens {@code n} elements of the segment from element {@code segIndex} into {@code dst}. */
    static void loadRow(MemorySegment seg, long segIndex, float[] dst, int doff, int n) {
        long from = segIndex * Short.BYTES;
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            widen(seg, from + (long) i * Short.BYTES).intoArray(dst, doff + i);
        }
        for (; i < n; i++) {
            dst[doff + i] = toFloat(seg.getAtIndex(SHORT, segIndex + i));
        }
    }

    /** {@link VectorKernels#dot} over a bfloat16 row. */
    static float dot(MemorySegment seg, long segIndex, float[] x, int xo, int n) {
        long base = segIndex * Short.BYTES;
        FloatVector acc = FloatVector.zero(F);
        int bound = F.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            acc = widen(seg, base + (long) i * Short.BYTES).fma(FloatVector.fromArray(F, x, xo + i), acc);
        }
        float s = VectorKernels.sum(acc);
        for (; i < n; i++) {
            s += toFloat(seg.getAtIndex(SHORT, segIndex + i)) * x[xo + i];
        }
        return s;
    }

    /** {@link VectorKernels#rowDots} over bfloat16 key rows. */
    static void rowDots(MemorySegment seg, long segIndex, int count, int n, float[] x, int xo, float[] s, int so) {
        long stride = (long) n * Short.BYTES;
        long base = segIndex * n * Short.BYTES;
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
                long b = (long) i * Short.BYTES;
                a0 = widen(seg, r0 + b).fma(q, a0);
                a1 = widen(seg, r1 + b).fma(q, a1);
                a2 = widen(seg, r2 + b).fma(q, a2);
                a3 = widen(seg, r3 + b).fma(q, a3);
            }
            float s0 = VectorKernels.sum(a0);
            float s1 = VectorKernels.sum(a1);
            float s2 = VectorKernels.sum(a2);
            float s3 = VectorKernels.sum(a3);
            for (int i = bound; i < n; i++) {
                long e = (long) i * Short.BYTES;
                float q = x[xo + i];
                s0 += toFloat(seg.get(SHORT, r0 + e)) * q;
                s1 += toFloat(seg.get(SHORT, r1 + e)) * q;
                s2 += toFloat(seg.get(SHORT, r2 + e)) * q;
                s3 += toFloat(seg.get(SHORT, r3 + e)) * q;
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

    /** {@link VectorKernels#weightedRows} over bfloat16 value rows. */
    static void weightedRows(float[] p, int po, int count, MemorySegment seg, long segIndex, int n, float[] out,
                             int oo) {
        long base = segIndex * n * Short.BYTES;
        long stride = (long) n * Short.BYTES;
        int bound = F.loopBound(n);
        int i = 0;
        for (; i + 4 * L <= bound; i += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(F, out, oo + i);
            FloatVector a1 = FloatVector.fromArray(F, out, oo + i + L);
            FloatVector a2 = FloatVector.fromArray(F, out, oo + i + 2 * L);
            FloatVector a3 = FloatVector.fromArray(F, out, oo + i + 3 * L);
            long at = base + (long) i * Short.BYTES;
            for (int t = 0; t < count; t++, at += stride) {
                FloatVector pt = FloatVector.broadcast(F, p[po + t]);
                a0 = widen(seg, at).fma(pt, a0);
                a1 = widen(seg, at + VECTOR_BYTES).fma(pt, a1);
                a2 = widen(seg, at + 2 * VECTOR_BYTES).fma(pt, a2);
                a3 = widen(seg, at + 3 * VECTOR_BYTES).fma(pt, a3);
            }
            a0.intoArray(out, oo + i);
            a1.intoArray(out, oo + i + L);
            a2.intoArray(out, oo + i + 2 * L);
            a3.intoArray(out, oo + i + 3 * L);
        }
        for (; i < bound; i += L) {
            FloatVector acc = FloatVector.fromArray(F, out, oo + i);
            long at = base + (long) i * Short.BYTES;
            for (int t = 0; t < count; t++, at += stride) {
                acc = widen(seg, at).fma(FloatVector.broadcast(F, p[po + t]), acc);
            }
            acc.intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            float s = out[oo + i];
            long at = base + (long) i * Short.BYTES;
            for (int t = 0; t < count; t++, at += stride) {
                s += p[po + t] * toFloat(seg.get(SHORT, at));
            }
            out[oo + i] = s;
        }
    }

    /**
     * {@link VectorKernels#rotateBack} over a bfloat16 row: widened, rotated in float32 without fused multiply-adds,
     * rounded back, which is what the tensor path computes for a bfloat16 cache.
     */
    static void rotateBack(MemorySegment seg, long src, long dst, float[] cos, float[] sin, int co, int d) {
        int half = d / 2;
        int bound = F.loopBound(half);
        long from = src * Short.BYTES;
        long to = dst * Short.BYTES;
        long second = (long) half * Short.BYTES;
        int i = 0;
        for (; i < bound; i += L) {
            long o = (long) i * Short.BYTES;
            FloatVector a = widen(seg, from + o);
            FloatVector b = widen(seg, from + second + o);
            narrow(a.mul(FloatVector.fromArray(F, cos, co + i)).add(b.mul(FloatVector.fromArray(F, sin, co + i))),
                    seg, to + o);
            narrow(b.mul(FloatVector.fromArray(F, cos, co + half + i)).sub(a.mul(FloatVector.fromArray(F, sin,
                    co + half + i))), seg, to + second + o);
        }
        for (; i < half; i++) {
            float a = toFloat(seg.getAtIndex(SHORT, src + i));
            float b = toFloat(seg.getAtIndex(SHORT, src + half + i));
            seg.setAtIndex(SHORT, dst + i, toBf16(a * cos[co + i] + b * sin[co + i]));
            seg.setAtIndex(SHORT, dst + half + i, toBf16(b * cos[co + half + i] - a * sin[co + half + i]));
        }
    }
}
