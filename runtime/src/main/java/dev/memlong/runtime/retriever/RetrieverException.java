package dev.memlong.runtime.retriever;

/** A retriever model could not be loaded or run. */
public class RetrieverException extends RuntimeException {

    public RetrieverException(String message, Throwable cause) {
        super(message, cause);
    }

    public RetrieverException(String message) {
        super(message);
    }
}
