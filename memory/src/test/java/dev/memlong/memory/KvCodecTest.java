package dev.memlong.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class KvCodecTest {

    private static final float[] SPECIAL = {0f, -0f, 1f, -1f, 0.1f, 65504f, 65520f, 1e-8f, 6.1e-5f, 3.0e-7f,
        Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.NaN, 3.3895314e38f, 1.00390625f, 1.01171875f, 1.0078125f};

    private static float[] samples() {
        Random rnd = new Random(3);
        float[] v = new float[SPECIAL.length + 5000];
        System.arraycopy(SPECIAL, 0, v, 0, SPECIAL.length);
        for (int i = SPECIAL.length; i < v.length; i++) {
            v[i] = i % 2 == 0 ? (float) rnd.nextGaussian() * 10 : Float.intBitsToFloat(rnd.nextInt());
        }
        return v;
    }

    private static int u16(byte[] b, int i) {
        return (b[2 * i] & 0xFF) | (b[2 * i + 1] & 0xFF) << 8;
    }

    @Test
    void fp16MatchesTheJdkConversionLittleEndian() {
        float[] v = samples();
        byte[] bytes = KvCodec.encode(v, KvDType.FP16);
        assertEquals(2 * v.length, bytes.length);
        float[] back = KvCodec.decode(bytes, KvDType.FP16);
        for (int i = 0; i < v.length; i++) {
            short expected = Float.floatToFloat16(v[i]);
            assertEquals(expected & 0xFFFF, u16(bytes, i), "value " + v[i]);
            assertEquals(Float.float16ToFloat(expected), back[i], 0f, "value " + v[i]);
        }
    }

    /**
     * FP16 bit patterns worked out from the IEEE 754 binary16 format (1 sign, 5 exponent bits biased by 15, 10
     * mantissa bits), not from the JDK conversion KvCodec uses, so a wrong codec cannot agree with itself.
     */
    @Test
    void fp16KnownBitPatterns() {
        float subnormalMin = 0x1p-24f; // 0x0001, the smallest positive binary16 value
        float[] in = {
            1.0f, -1.0f, 2.0f, 0.5f, 0.0f, -0.0f,
            65504f,                       // the largest finite binary16
            65519.99f,                    // below the halfway point to 65536: stays finite
            65520f,                       // halfway to 65536, ties to the even significand: overflows to infinity
            1e9f, -1e9f,                  // overflow
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            0x1p-14f,                     // the smallest normal
            0x1p-15f,                     // a subnormal: 0x0200
            subnormalMin,
            0x1p-25f,                     // halfway between 0 and the smallest subnormal: ties to even 0
            0x1.8p-24f,                   // halfway between 0x0001 and 0x0002: ties to even 0x0002
            1e-8f,                        // under half the smallest subnormal: 0
            -1e-8f,                       // ... keeping the sign
            1.0f + 0x1p-11f,              // halfway between 0x3C00 and 0x3C01: ties to even 0x3C00
            1.0f + 0x1.8p-10f,            // halfway between 0x3C01 and 0x3C02: ties to even 0x3C02
            1.0f + 0x1p-11f + 0x1p-20f,   // just above halfway: up to 0x3C01
            0.1f, 1f / 3f, -2.5f};
        int[] want = {
            0x3C00, 0xBC00, 0x4000, 0x3800, 0x0000, 0x8000,
            0x7BFF, 0x7BFF, 0x7C00, 0x7C00, 0xFC00,
            0x7C00, 0xFC00,
            0x0400, 0x0200, 0x0001, 0x0000, 0x0002, 0x0000, 0x8000,
            0x3C00, 0x3C02, 0x3C01,
            0x2E66, 0x3555, 0xC100};
        byte[] bytes = KvCodec.encode(in, KvDType.FP16);
        for (int i = 0; i < in.length; i++) {
            assertEquals(want[i], u16(bytes, i), "value " + in[i] + " (" + Float.toHexString(in[i]) + ")");
        }
        // little-endian: 1.0 = 0x3C00 is written 00 3C
        assertEquals(0x00, bytes[0] & 0xFF);
        assertEquals(0x3C, bytes[1] & 0xFF);

        int nan = u16(KvCodec.encode(new float[] {Float.NaN}, KvDType.FP16), 0);
        assertEquals(0x7C00, nan & 0x7C00, "NaN has an all-ones exponent");
        assertTrue((nan & 0x03FF) != 0, "and a non-zero mantissa");

        // decoding the same patterns (low byte first)
        byte[] encoded = {0x00, 0x3C, (byte) 0xFF, 0x7B, 0x01, 0x00, 0x00, 0x04, 0x00, (byte) 0xFC, 0x00, 0x7E,
            0x00, (byte) 0x80, 0x66, 0x2E};
        float[] back = KvCodec.decode(encoded, KvDType.FP16);
        assertEquals(1.0f, back[0]);
        assertEquals(65504f, back[1]);
        assertEquals(subnormalMin, back[2]);
        assertEquals(0x1p-14f, back[3]);
        assertEquals(Float.NEGATIVE_INFINITY, back[4]);
        assertTrue(Float.isNaN(back[5]));
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(back[6]), "negative zero");
        assertEquals(0.0999755859375f, back[7]);
    }

    /** Round to nearest even on the upper 16 bits, written out with plain integer arithmetic. */
    private static int bf16Reference(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return -1;
        }
        long upper = (bits & 0xFFFFFFFFL) >>> 16;
        long lower = bits & 0xFFFF;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) {
            upper++;
        }
        return (int) (upper & 0xFFFF);
    }

    @Test
    void bf16RoundsToNearestEvenLittleEndian() {
        float[] v = samples();
        byte[] bytes = KvCodec.encode(v, KvDType.BF16);
        float[] back = KvCodec.decode(bytes, KvDType.BF16);
        for (int i = 0; i < v.length; i++) {
            int got = u16(bytes, i);
            if (Float.isNaN(v[i])) {
                assertTrue(Float.isNaN(back[i]), "NaN stays NaN");
                continue;
            }
            assertEquals(bf16Reference(v[i]), got, "value " + v[i]);
            assertEquals(Float.intBitsToFloat(got << 16), back[i], 0f);
        }
        // Ties: 1.00390625 is halfway between 1.0 and 1.0078125 and goes to the even 1.0;
        // 1.01171875 is halfway between 1.0078125 and 1.015625 and goes to the even 1.015625.
        assertEquals(1.0f, KvCodec.fromBFloat16(KvCodec.toBFloat16(1.00390625f)));
        assertEquals(1.015625f, KvCodec.fromBFloat16(KvCodec.toBFloat16(1.01171875f)));
        assertEquals(Float.POSITIVE_INFINITY, KvCodec.fromBFloat16(KvCodec.toBFloat16(Float.MAX_VALUE)));
    }

    @Test
    void fp32IsExactLittleEndian() {
        float[] v = samples();
        byte[] bytes = KvCodec.encode(v, KvDType.FP32);
        for (int i = 0; i < v.length; i++) {
            int bits = (bytes[4 * i] & 0xFF) | (bytes[4 * i + 1] & 0xFF) << 8 | (bytes[4 * i + 2] & 0xFF) << 16
                    | (bytes[4 * i + 3] & 0xFF) << 24;
            assertEquals(Float.floatToRawIntBits(v[i]), bits);
        }
        assertArrayEquals(v, KvCodec.decode(bytes, KvDType.FP32));
    }

    @Test
    void offsetsEncodeAndDecodeSlices() {
        float[] v = {1f, 2f, 3f, 4f};
        byte[] dst = new byte[10];
        KvCodec.encode(v, 1, 2, KvDType.FP16, dst, 4);
        float[] out = new float[5];
        KvCodec.decode(dst, 4, 2, KvDType.FP16, out, 3);
        assertArrayEquals(new float[] {0f, 0f, 0f, 2f, 3f}, out);
        assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(new byte[3], KvDType.FP16));
    }
}
