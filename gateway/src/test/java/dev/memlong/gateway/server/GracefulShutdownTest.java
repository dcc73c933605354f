package dev.memlong.gateway.server;

import dev.memlong.gateway.proto.ServerFrame;
import dev.memlong.gateway.testing.Frames;
import dev.memlong.gateway.testing.LeakRecorder;
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
}
