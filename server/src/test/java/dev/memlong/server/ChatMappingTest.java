package dev.memlong.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.memlong.actors.MemLongException;
import dev.memlong.actors.Reply;
import dev.memlong.actors.RetrievedChunk;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.server.backend.ChatMapping;
import dev.memlong.storage.Role;
import dev.memlong.storage.Turn;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class ChatMappingTest {

    @Test
    void runtimeFailuresMapToGatewayCodes() {
        assertEquals(ErrorCode.OVERLOADED, code(new MemLongException(MemLongException.Kind.OVERLOADED, "full")));
        assertEquals(ErrorCode.CANCELLED, code(new MemLongException(MemLongException.Kind.CANCELLED, "c")));
        assertEquals(ErrorCode.INVALID, code(new MemLongException(MemLongException.Kind.INVALID, "empty")));
        assertEquals(ErrorCode.UNAVAILABLE, code(new MemLongException(MemLongException.Kind.SHUTTING_DOWN, "s")));
        assertEquals(ErrorCode.UNAVAILABLE, code(new MemLongException(MemLongException.Kind.STORAGE, "disk")));
        assertEquals(ErrorCode.INTERNAL, code(new MemLongException(MemLongException.Kind.CONVERSATION_FAILED, "x")));
        assertEquals(ErrorCode.CANCELLED, code(new CancellationException()));
        assertEquals(ErrorCode.UNAVAILABLE, code(new TimeoutException()));
        assertEquals(ErrorCode.INVALID, code(new IllegalArgumentException("top_p")));
        assertEquals(ErrorCode.INTERNAL, code(new IllegalStateException("?")));
        // unwraps completion wrappers, keeps the message
        ChatException e = ChatMapping.error(new CompletionException(
                new MemLongException(MemLongException.Kind.OVERLOADED, "device 0 is full")));
        assertEquals(ErrorCode.OVERLOADED, e.code());
        assertEquals("device 0 is full", e.getMessage());
    }

    private static ErrorCode code(Throwable t) {
        return ChatMapping.error(t).code();
    }

    @Test
    void recordsConvertFieldByField() {
        var g = ChatMapping.generation(new ChatParams(7, 0.5, 3, 0.8, 1.1, 42, List.of("\n\n")));
        assertEquals(List.of(7, 3), List.of(g.maxNewTokens(), g.topK()));
        assertEquals(List.of(0.5, 0.8, 1.1), List.of(g.temperature(), g.topP(), g.repetitionPenalty()));
        assertEquals(42, g.seed());
        assertEquals(List.of("\n\n"), g.stopStrings());

        Reply r = new Reply("Rex.", 20, 3, Duration.ofMillis(12), 50.0, Duration.ofMillis(3), List.of(new RetrievedChunk(4, 0.9f, "dog Rex")),
                Reply.StopReason.STOP_STRING, 16, 24, 0, List.of(5, 6, 7));
        ChatReply c = ChatMapping.reply(r);
        assertEquals(new ChatReply("Rex.", 20, 3, Duration.ofMillis(12), 50.0, Duration.ofMillis(3),
                List.of(new ChatReply.Retrieved(4, 0.9f, "dog Rex")), ChatReply.Finish.STOP, 16, 24), c);
        assertEquals(ChatReply.Finish.LENGTH, ChatMapping.reply(new Reply("", 1, 1, Duration.ZERO, 0, Duration.ZERO, List.of(),
                Reply.StopReason.LENGTH, 0, 0, 0, List.of(1))).finish());

        List<ChatTurn> history = ChatMapping.history(List.of(new Turn(0, Role.SYSTEM, "sys", 1, 0),
                new Turn(1, Role.USER, "hi", 1, 0), new Turn(2, Role.ASSISTANT, "hello", 1, 0)));
        assertEquals(List.of(new ChatTurn(1, ChatTurn.Role.USER, "hi"),
                new ChatTurn(2, ChatTurn.Role.ASSISTANT, "hello")), history);
    }
}
