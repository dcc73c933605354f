package dev.memlong.runtime.checkpoint;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * The tensors of a checkpoint, readable one at a time so that a model is never held twice in memory while it
 * loads. Implementations: {@link SafetensorsCheckpoint} (memory-mapped) and {@link PyTorchPickleCheckpoint}.
 */
public interface WeightSource extends AutoCloseable {

    /** Every tensor in the checkpoint, by name. */
    Map<String, TensorInfo> tensors();

    /**
     * The tensor's values as float32, little-endian, row-major, widened from the stored dtype. The buffer may be
     * a view of a memory-mapped file and is only valid until {@link #close()}.
     *
     * @throws CheckpointException if the tensor is missing or its bytes are truncated
     */
    ByteBuffer readFloat32(String name);

    /** Releases mapped files. */
    @Override
    void close();

    /** Where the tensors come from, for messages. */
    String description();
}
