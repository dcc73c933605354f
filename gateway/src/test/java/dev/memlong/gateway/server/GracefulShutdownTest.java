package dev.memlong.gateway.server;

import dev.memlong.gateway.proto.ErrorCode;
import dev.memlong.gateway.proto.ServerFrame;
import dev.memlong.gateway.testing.Frames;
import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.RawHttp;
import dev.memlong.gateway.testing.TestGateway;
import dev.memlong.gateway.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GracefulShutdownTest {

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    @Test
    void aTurnInFlightFinishesBeforeTheServerCloses() throws Exception {
        TestGateway gw = new TestGateway("shutdown-timeout = 10s", Duration.ofMillis(60), 64);
        WsClient c = WsClient.connect(gw.ws(""));
        c.send(Frames.open("o", "g", false));
        c.next();
        c.send(Frames.message("m", "one two three four five six"));
        assertTrue(c.next().hasDelta());
        CompletableFuture<Void> closing = CompletableFuture.runAsync(gw::close);
        List<ServerFrame> rest = c.untilEnd("m");
        assertTrue(rest.get(rest.size() - 1).hasDone(), "the turn in flight completes: " + rest);
        closing.get();
        assertNotNull(c.closeCode(Duration.ofSeconds(5)), "then the connection closes");
        assertEquals(1, gw.backend.conversation("local", "g").memory().toCompletableFuture().join().size());
    }

    @Test
    void whileDrainingNewRequestsAreRefusedAndWebSocketsAreToldWhy() throws Exception {
        TestGateway gw = new TestGateway("shutdown-timeout = 10s", Duration.ofMillis(60), 64);
        WsClient c = WsClient.connect(gw.ws(""));
        RawHttp http = new RawHttp(gw.server.port()); // a keep-alive connection opened before the shutdown
        try {
            http.send(RawHttp.get("/healthz", "Host: 127.0.0.1"));
            assertEquals(200, http.read().status());
            c.send(Frames.open("o", "d", false));
            c.next();
            c.send(Frames.message("m", "one two three four five six seven eight nine ten"));
            assertTrue(c.next().hasDelta());
            CompletableFuture<Void> closing = CompletableFuture.runAsync(gw::close);
            while (!gw.server.draining()) {
                Thread.sleep(5);
            }
            c.send(Frames.message("late", "hello"));
            http.send(RawHttp.post("/v1/chat/completions",
                    "{\"model\":\"memlong-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
                    "Host: 127.0.0.1", "Content-Type: application/json", "X-Conversation-Id: d2"));
            RawHttp.Response refused = http.read();
            assertEquals(503, refused.status(), refused.body());
            assertTrue(refused.body().contains("\"unavailable\""), refused.body());

            boolean lateRefused = false;
            boolean turnDone = false;
            while (!lateRefused || !turnDone) {
                ServerFrame f = c.next();
                if (f.hasError()) {
                    assertEquals("late", f.getError().getRequestId());
                    assertEquals(ErrorCode.UNAVAILABLE, f.getError().getCode());
                    lateRefused = true;
                }
                turnDone |= f.hasDone() && f.getDone().getRequestId().equals("m");
            }
            closing.get();
            assertEquals(1001, c.closeCode(Duration.ofSeconds(5)), "going away");
            assertEquals(1, gw.backend.turnsStarted(), "nothing new reached the backend");
        } finally {
            http.close();
            c.close();
            gw.close();
        }
    }
}
