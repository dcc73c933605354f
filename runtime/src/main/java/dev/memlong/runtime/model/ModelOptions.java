package dev.memlong.runtime.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;

/**
 * How a model is instantiated.
 *
 * @param device      where weights and caches live (CPU by default; a GPU through DJL's {@link Device})
 * @param computeType float32 by default; half-precision weights are widened to it at load
 */
public record ModelOptions(Device device, DataType computeType) {

    public ModelOptions {
        if (computeType != DataType.FLOAT32 && computeType != DataType.FLOAT16 && computeType != DataType.BFLOAT16) {
            throw new IllegalArgumentException("compute type must be float32, float16 or bfloat16, not " + computeType);
        }
    }

    public static ModelOptions defaults() {
        return new ModelOptions(Device.cpu(), DataType.FLOAT32);
    }

    /** Parses "float32" / "float16" / "bfloat16" (and the fp32/fp16/bf16 short forms). */
    public static DataType parseComputeType(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "float32", "fp32" -> DataType.FLOAT32;
            case "float16", "fp16" -> DataType.FLOAT16;
            case "bfloat16", "bf16" -> DataType.BFLOAT16;
            default -> throw new IllegalArgumentException("unknown compute type \"" + s + "\"; use float32, float16 or bfloat16");
        };
    }
}
