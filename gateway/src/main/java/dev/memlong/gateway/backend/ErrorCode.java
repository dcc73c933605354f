package dev.memlong.gateway.backend;

/**
 * What went wrong, as every protocol of the gateway reports it: the WebSocket {@code Error.code}, the HTTP
 * status and the OpenAI error {@code type}/{@code code}. The backend produces {@link #OVERLOADED},
 * {@link #CANCELLED}, {@link #INVALID}, {@link #UNAVAILABLE} and {@link #INTERNAL}; the rest are the gateway's.
 */
public enum ErrorCode {
    /** malformed input or a value out of range */
    INVALID(400, "invalid_request_error"),
    /** no or an unknown API key */
    UNAUTHENTICATED(401, "authentication_error"),
    /** a frame, body or message over its size limit */
    TOO_LARGE(413, "invalid_request_error"),
    /** the tenant's request rate is over its limit */
    RATE_LIMITED(429, "rate_limit_error"),
    /** the connection has the maximum number of requests in flight */
    TOO_MANY_REQUESTS(429, "rate_limit_error"),
    /** the runtime's batches and queues are full; nothing was queued */
    OVERLOADED(503, "overloaded_error"),
    /** the request was cancelled */
    CANCELLED(499, "cancelled"),
    /** nothing by that name (a path, a request id to cancel) */
    NOT_FOUND(404, "not_found_error"),
    /** a request that is not allowed now (before open, duplicate request id, ...) */
    OUT_OF_ORDER(409, "invalid_request_error"),
    /** shutting down */
    UNAVAILABLE(503, "unavailable_error"),
    /** anything else */
    INTERNAL(500, "server_error");

    private final int httpStatus;
    private final String openAiType;

    ErrorCode(int httpStatus, String openAiType) {
        this.httpStatus = httpStatus;
        this.openAiType = openAiType;
    }

    /** The HTTP status an HTTP response with this error carries. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The OpenAI error {@code type}. */
    public String openAiType() {
        return openAiType;
    }

    /** The lower-case name used as the OpenAI error {@code code} and in logs. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
