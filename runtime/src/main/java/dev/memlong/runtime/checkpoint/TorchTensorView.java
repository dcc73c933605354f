package dev.memlong.runtime.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A tensor as {@code torch._utils._rebuild_tensor_v2} describes it: a view into a storage with an element offset,
 * a shape and strides (in elements). Several views may share one storage (tied weights, slices of one buffer).
 */
record TorchTensorView(TorchStorage storage, long offset, long[] shape, long[] stride) {

    TorchTensorView {
        shape = shape.clone();
        stride = stride.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public long[] stride() {
        return stride.clone();
    }

    long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * Checks that every element the view addresses lies inside its storage.
     *
     * @return why the view is invalid, or null when it is valid
     */
    String invalidReason() {
        if (shape.length != stride.length) {
            return "shape " + Arrays.toString(shape) + " and stride " + Arrays.toString(stride) + " differ in rank";
        }
        if (offset < 0) {
            return "negative storage offset " + offset;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0 || stride[i] < 0) {
                return "negative size or stride in " + Arrays.toString(shape) + " / " + Arrays.toString(stride);
            }
        }
        try {
            if (elementCount() == 0) {
                return null;
            }
            long last = lastIndex();
            if (last >= storage.numel()) {
                return "view " + Arrays.toString(shape) + " stride " + Arrays.toString(stride) + " offset " + offset
                        + " reaches element " + last + " but storage " + storage.key() + " holds " + storage.numel();
            }
        } catch (ArithmeticException e) {
            return "sizes overflow: " + Arrays.toString(shape) + " / " + Arrays.toString(stride);
        }
        return null;
    }

    /** The storage index of the view's last element (for a non-empty view). */
    long lastIndex() {
        long last = offset;
        for (int i = 0; i < shape.length; i++) {
            last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
        }
        return last;
    }

    /** Elements of storage the view spans, from {@link #offset()} to its last element inclusive. */
    long spanElements() {
        return elementCount() == 0 ? 0 : lastIndex() - offset + 1;
    }

    /** Whether the view is row-major contiguous (dimensions of size 1 may have any stride). */
    boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /**
     * Copies the view's elements into a new row-major buffer.
     *
     * @param span         the storage bytes from element {@link #offset()}, {@link #spanElements()} elements long
     * @param elementBytes bytes per element
     */
    ByteBuffer gather(ByteBuffer span, int elementBytes) {
        int count = Math.toIntExact(elementCount());
        ByteBuffer out = ByteBuffer.allocateDirect(Math.multiplyExact(count, elementBytes)).order(ByteOrder.LITTLE_ENDIAN);
        if (count == 0) {
            return out;
        }
        int rank = shape.length;
        long[] index = new long[rank];
        long src = 0; // element index relative to offset
        byte[] element = new byte[elementBytes];
        for (int n = 0; n < count; n++) {
            span.get(Math.toIntExact(src * elementBytes), element);
            out.put(n * elementBytes, element);
            for (int d = rank - 1; d >= 0; d--) { // odometer increment, innermost dimension first
                index[d]++;
                src += stride[d];
                if (index[d] < shape[d]) {
                    break;
                }
                src -= stride[d] * shape[d];
                index[d] = 0;
            }
        }
        return out;
    }
}
