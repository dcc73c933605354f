package dev.memlong.gateway.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.testing.TestGateway;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@link GatewayClient} against a gateway over the echo backend. */
class GatewayClientTest {

    @Test
    void streamsATurnThenResumesWithHistoryAndMemory() {
        try (TestGateway gw = new TestGateway("")) {
            List<String> deltas = new CopyOnWriteArrayList<>();
            try (GatewayClient c = GatewayClient.connect(gw.ws(""), null)) {
                GatewayClient.Opened opened = c.open("c1", true).join();
                assertEquals("c1", opened.conversationId());
                assertTrue(opened.history().isEmpty());
                ChatReply r = c.send("hello there world", ChatParams.greedy(16), deltas::add).join();
                assertEquals("echo: hello there world", r.text());
                assertEquals(r.text(), String.join("", deltas));
                assertEquals(4, r.completionTokens());
            }
            try (GatewayClient c = GatewayClient.connect(gw.ws(""), null)) {
                List<ChatTurn> history = c.open("c1", true).join().history();
                assertEquals(List.of("hello there world", "echo: hello there world"),
                        history.stream().map(ChatTurn::text).toList());
                assertEquals(1, c.memory().join().size());
                assertTrue(c.forget().join());
                assertFalse(c.forget().join());
            }
        }
    }

    @Test
    void errorsArriveAsChatExceptionsWithTheServerCode() {
        try (TestGateway gw = new TestGateway("");
             GatewayClient c = GatewayClient.connect(gw.ws(""), null)) {
            c.open("c2", false).join();
            CompletionException e = assertThrows(CompletionException.class,
                    () -> c.send("!overloaded now", ChatParams.greedy(8), d -> { }).join());
            assertEquals(ErrorCode.OVERLOADED, assertInstanceOf(ChatException.class, e.getCause()).code());
            assertEquals("echo: still works", c.send("still works", ChatParams.greedy(8), d -> { }).join().text());
        }
    }

    @Test
    void cancellingTheFutureCancelsTheTurn() throws Exception {
        try (TestGateway gw = new TestGateway("", Duration.ofMillis(50), 64);
             GatewayClient c = GatewayClient.connect(gw.ws(""), null)) {
            c.open("c3", false).join();
            CompletableFuture<ChatReply> r = c.send("one two three four five six seven eight", ChatParams.greedy(32),
                    d -> { });
            Thread.sleep(120);
            r.cancel(true);
            // the connection goes on: the next turn is answered
            assertEquals("echo: next", c.send("next", ChatParams.greedy(8), d -> { }).join().text());
        }
    }

    @Test
    void aRefusedApiKeyIsUnauthenticated() {
        try (TestGateway gw = new TestGateway("api-keys = [{ key = \"secret-key-1\", tenant = \"a\" }]")) {
            ChatException e = assertThrows(ChatException.class, () -> GatewayClient.connect(gw.ws(""), "wrong-key-9"));
            assertEquals(ErrorCode.UNAUTHENTICATED, e.code());
            try (GatewayClient c = GatewayClient.connect(gw.ws(""), "secret-key-1")) {
                assertEquals("a", c.open("x", false).join().tenant());
            }
        }
    }
}
