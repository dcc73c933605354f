package dev.memlong.gateway.ws;

import dev.memlong.gateway.backend.ChatChunk;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.backend.ErrorCode;

import java.util.List;

/** What the server sends on a WebSocket, before encoding. */
public sealed interface ServerEvent {

    /** The request this answers. */
    String requestId();

    /** A conversation is open. */
    record Opened(String requestId, String conversationId, String tenant, List<ChatTurn> history)
            implements ServerEvent {}

    /** New reply text. */
    record Delta(String requestId, String text, int index) implements ServerEvent {}

    /** A reply is committed. */
    record Done(String requestId, ChatReply reply, long elapsedNanos) implements ServerEvent {}

    /** A request failed. */
    record Failed(String requestId, ErrorCode code, String message) implements ServerEvent {}

    /** The conversation's memory. */
    record Memory(String requestId, List<ChatChunk> chunks) implements ServerEvent {}

    /** The conversation was forgotten. */
    record Forgotten(String requestId, boolean existed) implements ServerEvent {}

    /** An event with the encoding to send it in. */
    record Outbound(ServerEvent event, Encoding encoding) {}
}
