package dev.memlong.runtime.checkpoint;

/**
 * A checkpoint cannot be used: a missing or truncated file, a malformed header, a missing tensor, a tensor of
 * the wrong shape or dtype, an unsupported architecture. The message always names the file and, where there is
 * one, the tensor.
 */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
