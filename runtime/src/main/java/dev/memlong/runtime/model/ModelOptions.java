package dev.memlong.runtime.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;

/**
 * How a model is instantiated.
 *
 * @param device      where weights and caches live (CPU by default; a GPU through DJL's {@link Device})
 * @param computeType float32 by default, or float16; half-precision weights are converted to it at load
 * @param kvCacheType what the KV cache stores: the compute type, or bfloat16 under float32 compute (half the cache's
 *                    memory and, at long windows, nearly half the decode step's attention time; keys and values are
 *                    rounded to bfloat16 as they are written, attention itself computes in float32)
 */
public record ModelOptions(Device device, DataType computeType, DataType kvCacheType) {

    public ModelOptions {
        if (computeType == DataType.BFLOAT16) {
            // measured: DJL 0.36's PyTorch JNI has no bfloat16 mapping and aborts the whole process (std::terminate)
            // on the first bfloat16 tensor, so this must never reach it
            throw new IllegalArgumentException("bfloat16 compute is not supported: DJL 0.36's PyTorch binding aborts"
                    + " the process on bfloat16 tensors; use float32 or float16 (bfloat16 checkpoints are widened at"
                    + " load)");
        }
        if (computeType != DataType.FLOAT32 && computeType != DataType.FLOAT16) {
            throw new IllegalArgumentException("compute type must be float32 or float16, not " + computeType);
        }
        if (kvCacheType != computeType && !(computeType == DataType.FLOAT32 && kvCacheType == DataType.BFLOAT16)) {
            throw new IllegalArgumentException("a KV cache of " + kvCacheType + " under " + computeType + " compute is"
                    + " not supported: the cache stores the compute type, or bfloat16 under float32 compute");
        }
    }

    /** The cache in the compute type. */
    public ModelOptions(Device device, DataType computeType) {
        this(device, computeType, computeType);
    }

    public static ModelOptions defaults() {
        return new ModelOptions(Device.cpu(), DataType.FLOAT32);
    }

    /** These options on another device. */
    public ModelOptions on(Device other) {
        return new ModelOptions(other, computeType, kvCacheType);
    }

    /** Parses "float32" / "float16" / "bfloat16" (and the fp32/fp16/bf16 short forms). */
    public static DataType parseComputeType(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "float32", "fp32" -> DataType.FLOAT32;
            case "float16", "fp16" -> DataType.FLOAT16;
            case "bfloat16", "bf16" -> DataType.BFLOAT16;
            default -> throw new IllegalArgumentException("unknown dtype \"" + s + "\"; use float32, float16 or bfloat16");
        };
    }

    /** Parses a KV cache type: "auto" (the compute type) or a type {@link #parseComputeType} knows. */
    public static DataType parseKvCacheType(String s, DataType computeType) {
        if (s.equalsIgnoreCase("auto")) {
            return computeType;
        }
        try {
            return parseComputeType(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown KV cache type \"" + s + "\"; use auto, float32 or bfloat16");
        }
    }
}
