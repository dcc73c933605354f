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

    /** {@link #of} or null for a null tensor (absent biases). */
    static MemorySegment ofNullable(NDArray a) {
        return a == null ? null : of(a);
    }
}
