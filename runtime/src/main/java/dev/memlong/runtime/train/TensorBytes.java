package dev.memlong.runtime.train;

import dev.memlong.memory.KvCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** float32 values as the little-endian bytes of a safetensors dtype ({@code F32}, {@code F16}, {@code BF16}). */
final class TensorBytes {

    private TensorBytes() {}

    static ByteBuffer encode(float[] v, String dtype) {
        ByteBuffer b;
        switch (dtype) {
            case "F32" -> {
                b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
            }
            case "F16" -> {
                b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < v.length; i++) {
                    b.putShort(i * 2, Float.floatToFloat16(v[i]));
                }
            }
            case "BF16" -> {
                b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < v.length; i++) {
                    b.putShort(i * 2, KvCodec.toBFloat16(v[i]));
                }
            }
            default -> throw new IllegalArgumentException("cannot write dtype " + dtype + "; use F32, F16 or BF16");
        }
        return b.rewind();
    }

    /** Safetensors spelling of a config dtype name ({@code float32}, {@code float16}, {@code bfloat16}). */
    static String fromConfig(String configDtype) {
        return switch (configDtype.toLowerCase(java.util.Locale.ROOT)) {
            case "float16", "fp16", "f16", "half" -> "F16";
            case "bfloat16", "bf16" -> "BF16";
            default -> "F32";
        };
    }

    static String toConfig(String dtype) {
        return switch (dtype) {
            case "F16" -> "float16";
            case "BF16" -> "bfloat16";
            default -> "float32";
        };
    }
}
