package dev.memlong.gateway.ws;

import dev.memlong.gateway.turn.RequestedParams;

/** A decoded client frame. Every command but {@link Malformed} names a request id chosen by the client. */
public sealed interface ClientCommand {

    /** The client's request id ("" when the frame had none). */
    String requestId();

    /** How the frame was encoded; replies use the same. */
    Encoding encoding();

    /** Open or resume a conversation of the connection's tenant. */
    record Open(String requestId, String conversationId, boolean includeHistory, Encoding encoding)
            implements ClientCommand {}

    /** A user message. */
    record Message(String requestId, String text, String systemPrompt, RequestedParams params, Encoding encoding)
            implements ClientCommand {}

    /** Cancel the message in flight with this request id. */
    record Cancel(String requestId, Encoding encoding) implements ClientCommand {}

    /** List the conversation's memory chunks. */
    record ListMemory(String requestId, Encoding encoding) implements ClientCommand {}

    /** Forget the conversation. */
    record Forget(String requestId, Encoding encoding) implements ClientCommand {}

    /** A frame that could not be decoded; answered with an INVALID error. */
    record Malformed(String requestId, String problem, Encoding encoding) implements ClientCommand {}
}
