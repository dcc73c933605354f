package dev.memlong.runtime.checkpoint;

import java.util.Arrays;

/**
 * What a checkpoint says about one tensor, before any of its data is read.
 *
 * @param name  the tensor's name as the checkpoint spells it (Hugging Face naming)
 * @param dtype the stored element type
 * @param shape the shape, outermost dimension first
 * @param file  the file holding the data, for error messages
 */
public record TensorInfo(String name, TensorDType dtype, long[] shape, String file) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Number of elements.
     *
     * @throws CheckpointException if it exceeds {@code Long.MAX_VALUE}: only a corrupt header claims such a shape
     */
    public long elementCount() {
        long n = 1;
        try {
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException("corrupt checkpoint: tensor " + name + " in " + file + " has shape "
                    + Arrays.toString(shape) + ", more elements than a long can count", e);
        }
        return n;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + " in " + file;
    }
}
