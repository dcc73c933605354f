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
