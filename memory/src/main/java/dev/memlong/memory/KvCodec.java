package dev.memlong.memory;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Encodes float32 K/V values to a {@link KvDType}'s little-endian bytes and back. FP16 and BF16 round to nearest,
 * ties to even (as {@link Float#floatToFloat16} and PyTorch's {@code .to(torch.bfloat16)} do); NaN stays NaN.
 */
public final class KvCodec {

    private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle FLOATS = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);

    private KvCodec() {}

    /** {@code values} encoded as {@code dtype}, {@code values.length * dtype.bytes()} bytes. */
    public static byte[] encode(float[] values, KvDType dtype) {
        byte[] out = new byte[Math.multiplyExact(values.length, dtype.bytes())];
        encode(values, 0, values.length, dtype, out, 0);
        return out;
    }

    /** Encodes {@code count} floats from {@code src[srcOff]} into {@code dst} at byte offset {@code dstOff}. */
    public static void encode(float[] src, int srcOff, int count, KvDType dtype, byte[] dst, int dstOff) {
        switch (dtype) {
            case FP32 -> {
                for (int i = 0; i < count; i++) {
                    FLOATS.set(dst, dstOff + 4 * i, src[srcOff + i]);
                }
            }
            case FP16 -> {
                for (int i = 0; i < count; i++) {
                    SHORTS.set(dst, dstOff + 2 * i, Float.floatToFloat16(src[srcOff + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    SHORTS.set(dst, dstOff + 2 * i, toBFloat16(src[srcOff + i]));
                }
            }
        }
    }

    /** {@code bytes} decoded from {@code dtype}; the length must be a multiple of {@code dtype.bytes()}. */
    public static float[] decode(byte[] bytes, KvDType dtype) {
        if (bytes.length % dtype.bytes() != 0) {
            throw new IllegalArgumentException(bytes.length + " bytes are not a whole number of " + dtype + " values");
        }
        float[] out = new float[bytes.length / dtype.bytes()];
        decode(bytes, 0, out.length, dtype, out, 0);
        return out;
    }

    /** Decodes {@code count} values from byte offset {@code srcOff} of {@code src} into {@code dst[dstOff]}. */
    public static void decode(byte[] src, int srcOff, int count, KvDType dtype, float[] dst, int dstOff) {
        switch (dtype) {
            case FP32 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = (float) FLOATS.get(src, srcOff + 4 * i);
                }
            }
            case FP16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = Float.float16ToFloat((short) SHORTS.get(src, srcOff + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    dst[dstOff + i] = fromBFloat16((short) SHORTS.get(src, srcOff + 2 * i));
                }
            }
        }
    }

    /** Float32 to bfloat16 bits, round to nearest even; NaN to a quiet NaN with the same sign. */
    public static short toBFloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** Bfloat16 bits to float32 (exact). */
    public static float fromBFloat16(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }
}
