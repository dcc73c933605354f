package dev.memlong.runtime.checkpoint;

/**
 * A storage of a torch zip checkpoint, as its pickle's persistent id names it:
 * {@code ('storage', torch.FloatStorage, '0', 'cpu', 32000)}. Its bytes are the zip entry {@code <archive>/data/<key>}.
 *
 * @param key      the entry name under {@code data/}
 * @param type     the storage class (fixes the element type)
 * @param numel    elements in the storage (bytes for an untyped storage)
 * @param location the device it was saved from, informational
 */
record TorchStorage(String key, TorchGlobal type, long numel, String location) {

    long byteSize() {
        return Math.multiplyExact(numel, (long) type.elementBytes());
    }
}
