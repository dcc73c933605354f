package dev.memlong.runtime.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Converts little-endian F16 / BF16 tensor bytes to float32; F32 bytes pass through unchanged (no copy). */
public final class Float32Widening {

    private Float32Widening() {}

    /**
     * @param raw   the stored bytes, little-endian, position 0 to limit
     * @param dtype their element type
     * @return float32 little-endian bytes (a direct buffer when converted)
     */
    public static ByteBuffer toFloat32(ByteBuffer raw, TensorDType dtype) {
        raw = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (dtype == TensorDType.F32) {
            return raw;
        }
        int n = raw.remaining() / 2;
        ByteBuffer out = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        int base = raw.position();
        if (dtype == TensorDType.F16) {
            for (int i = 0; i < n; i++) {
                out.putFloat(i * 4, Float.float16ToFloat(raw.getShort(base + 2 * i)));
            }
        } else {
            for (int i = 0; i < n; i++) {
                out.putInt(i * 4, (raw.getShort(base + 2 * i) & 0xffff) << 16);
            }
        }
        return out;
    }
}
