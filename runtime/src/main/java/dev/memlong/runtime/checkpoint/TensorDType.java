package dev.memlong.runtime.checkpoint;

/** Element types a checkpoint tensor may be stored in. Everything is widened to float32 on load. */
public enum TensorDType {
    F32(4),
    F16(2),
    BF16(2);

    private final int bytes;

    TensorDType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
