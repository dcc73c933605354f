package dev.memlong.gateway.backend;

import java.util.Objects;

/** A failed request, with the {@link ErrorCode} every protocol reports. */
public class ChatException extends RuntimeException {

    /** The longest piece of a client's input quoted back in an error message. */
    private static final int MAX_QUOTED = 64;

    private final ErrorCode code;
    private final String param;
    private final String openAiCode;

    public ChatException(ErrorCode code, String message) {
        this(code, null, null, message);
    }

    public ChatException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
        this.param = null;
        this.openAiCode = null;
    }

    private ChatException(ErrorCode code, String param, String openAiCode, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
        this.param = param;
        this.openAiCode = openAiCode;
    }

    /** An {@link ErrorCode#INVALID} request whose parameter {@code param} (e.g. {@code "n"}) is the problem. */
    public static ChatException invalidParam(String param, String message) {
        return new ChatException(ErrorCode.INVALID, Objects.requireNonNull(param, "param"), null, message);
    }

    /**
     * A request for a model the backend does not serve: {@link ErrorCode#NOT_FOUND} with OpenAI's own error code
     * for it, {@code model_not_found} (what OpenAI and vLLM answer, so clients that look for it find it).
     */
    public static ChatException modelNotFound(String model, java.util.List<String> served) {
        String quoted = model.length() > MAX_QUOTED ? model.substring(0, MAX_QUOTED) + "..." : model;
        return new ChatException(ErrorCode.NOT_FOUND, "model", "model_not_found", "the model `" + quoted
                + "` does not exist; this server serves " + String.join(", ", served) + " (GET /v1/models)");
    }

    public ErrorCode code() {
        return code;
    }

    /** The request parameter at fault (the OpenAI error's {@code param}), or null. */
    public String param() {
        return param;
    }

    /** The OpenAI error's {@code code}: the {@link ErrorCode}'s wire name unless a more specific one was given. */
    public String openAiCode() {
        return openAiCode != null ? openAiCode : code.wireName();
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
