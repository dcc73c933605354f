package dev.memlong.actors;

/**
 * Why a turn or a request failed. {@link Kind#OVERLOADED} is returned at once when the device batches and
 * queues are full: retry later.
 */
public class MemLongException extends RuntimeException {

    /** What went wrong. */
    public enum Kind {
        /** the scheduler's batch and queue are full; nothing was queued */
        OVERLOADED,
        /** the turn was cancelled */
        CANCELLED,
        /** the conversation failed while handling the request; it restarts from storage */
        CONVERSATION_FAILED,
        /** storage could not load or commit */
        STORAGE,
        /**
         * the device running the turn failed (its model did not load, or its forward steps failed); the turn left no
         * trace and may be retried, on another device if one is left
         */
        DEVICE_FAILED,
        /** the runtime is shutting down */
        SHUTTING_DOWN,
        /** bad input (for example an empty message) */
        INVALID
    }

    private final Kind kind;

    public MemLongException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public MemLongException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** The error name used on the wire and in logs ({@code overloaded}, {@code cancelled}, ...). */
    public String code() {
        return kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
