package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A view of a CPU float32 tensor's memory as a {@link MemorySegment}, for the Java decode step: PyTorch owns the
 * memory, the segment only borrows it (no copy), so it is valid exactly as long as the tensor is open and is never
 * closed itself. The tensor must be dense (its own storage, or a contiguous view).
 */
final class NativeFloats {

    private NativeFloats() {}

    static MemorySegment of(NDArray a) {
        if (a.getDataType() != DataType.FLOAT32 || !a.getDevice().equals(ai.djl.Device.cpu())) {
            throw new IllegalArgumentException("a float32 CPU tensor is needed, not " + a.getDataType() + " on "
                    + a.getDevice());
        }
        ByteBuffer b = a.toByteBuffer(true);
        if (!b.isDirect() || b.capacity() != a.size() * Float.BYTES) {
            throw new IllegalStateException("tensor " + a.getShape() + " is not dense in native memory");
        }
        return MemorySegment.ofBuffer(b);
    }

    /**
     * A view of a KV cache's tensor: float32 as {@link #of}, or a bfloat16 cache's rows (2-byte elements in a
     * float16-typed tensor, see {@link KvCachePool#storageType}), which {@link Bf16Kernels} reads and writes.
     */
    static MemorySegment cacheRows(KvCachePool cache, NDArray a) {
        if (cache.type() != DataType.BFLOAT16) {
            return of(a);
        }
        if (a.getDataType() != cache.storageType() || !a.getDevice().equals(ai.djl.Device.cpu())) {
            throw new IllegalArgumentException("a bfloat16 cache's rows in " + cache.storageType() + " on the CPU are"
                    + " needed, not " + a.getDataType() + " on " + a.getDevice());
        }
        ByteBuffer b = a.toByteBuffer(true);
        if (!b.isDirect() || b.capacity() != a.size() * Short.BYTES) {
            throw new IllegalStateException("tensor " + a.getShape() + " is not dense in native memory");
        }
        return MemorySegment.ofBuffer(b);
    }

    /** {@link #of} or null for a null tensor (absent biases). */
    static MemorySegment ofNullable(NDArray a) {
        return a == null ? null : of(a);
    }
}
