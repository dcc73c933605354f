package dev.memlong.memory;

/** How stored memory-layer keys and values are encoded (little-endian). */
public enum KvDType {
    FP16(2),
    BF16(2),
    FP32(4);

    private final int bytes;

    KvDType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
