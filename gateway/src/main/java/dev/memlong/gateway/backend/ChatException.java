package dev.memlong.gateway.backend;

import java.util.Objects;

/** A failed request, with the {@link ErrorCode} every protocol reports. */
public class ChatException extends RuntimeException {

    private final ErrorCode code;
    private final String param;

    public ChatException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
        this.param = null;
    }

    public ChatException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
        this.param = null;
    }

    private ChatException(String param, String message) {
        super(message);
        this.code = ErrorCode.INVALID;
        this.param = Objects.requireNonNull(param, "param");
    }

    /** An {@link ErrorCode#INVALID} request whose parameter {@code param} (e.g. {@code "n"}) is the problem. */
    public static ChatException invalidParam(String param, String message) {
        return new ChatException(param, message);
    }

    public ErrorCode code() {
        return code;
    }

    /** The request parameter at fault (the OpenAI error's {@code param}), or null. */
    public String param() {
        return param;
    }

    /**
     * The {@link ChatException} inside {@code t} (unwrapping completion wrappers), or an {@link ErrorCode#INTERNAL}
     * one wrapping it.
     */
    public static ChatException of(Throwable t) {
        Throwable e = t;
        while ((e instanceof java.util.concurrent.CompletionException
                || e instanceof java.util.concurrent.ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof ChatException c) {
            return c;
        }
        if (e instanceof java.util.concurrent.CancellationException) {
            return new ChatException(ErrorCode.CANCELLED, "cancelled");
        }
        return new ChatException(ErrorCode.INTERNAL, String.valueOf(e.getMessage()), e);
    }
}
