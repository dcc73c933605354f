package dev.memlong.gateway.server;

import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.RawHttp;
import dev.memlong.gateway.testing.TestGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One request at a time per HTTP connection, a client that leaves cancels its turn, a busy one is not idle but
 * one that stops reading is, a 413 is answered in order, and nothing is served after an answer that closes.
 */
class HttpPipeliningTest {

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    private static String chat(String conversation, String text, boolean stream, String... moreHeaders) {
        String[] headers = new String[moreHeaders.length + 3];
        headers[0] = "Host: 127.0.0.1";
        headers[1] = "Content-Type: application/json";
        headers[2] = "X-Conversation-Id: " + conversation;
        System.arraycopy(moreHeaders, 0, headers, 3, moreHeaders.length);
        return RawHttp.post("/v1/chat/completions", "{\"model\":\"memlong-echo\",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}", headers);
    }

    @Test
    void pipelinedRequestsAreAnsweredOneAfterTheOtherInOrder() throws Exception {
        try (TestGateway gw = new TestGateway("", Duration.ofMillis(40), 64);
             RawHttp raw = new RawHttp(gw.server.port())) {
            // a slow stream, then a quick JSON answer and a page, all in one write
            raw.send(chat("p1", "one two three four five six seven", true) + chat("p2", "quick", false)
                    + RawHttp.get("/healthz", "Host: 127.0.0.1", "Connection: close"));
            RawHttp.Response first = raw.read();
            assertEquals(200, first.status());
            assertTrue(first.body().endsWith("data: [DONE]\n\n"), first.body());
            assertTrue(first.body().contains("seven"), first.body());
            RawHttp.Response second = raw.read();
            assertEquals(200, second.status());
            assertTrue(second.body().contains("echo: quick"), second.body());
            RawHttp.Response third = raw.read();
            assertEquals(200, third.status());
            assertTrue(third.body().contains("ok"), third.body());
            assertTrue(raw.closedByServer());
        }
    }

    @Test
    void aClientThatLeavesCancelsItsTurnAndItsWaitingRequests() throws Exception {
        try (TestGateway gw = new TestGateway("", Duration.ofMillis(100), 64)) {
            String words = "word ".repeat(60).strip(); // 6 s of reply
            try (RawHttp raw = new RawHttp(gw.server.port())) {
                raw.send(chat("gone", words, false) + chat("gone-too", words, false));
                waitFor(() -> gw.backend.running() == 1);
            }
            waitFor(() -> gw.backend.running() == 0);
            assertEquals(1, gw.backend.turnsStarted(), "the waiting request never ran");
            waitFor(() -> gw.server.metrics().inFlight().get() == 0);
        }
    }

    @Test
    void aSlowAnswerIsNotIdle() throws Exception {
        try (TestGateway gw = new TestGateway("idle-timeout = 300ms", Duration.ofMillis(150), 64)) {
            HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
            // stream:false writes nothing until the reply is done, about 1 s later
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(gw.http("/v1/chat/completions"))
                    .header("Content-Type", "application/json").header("X-Conversation-Id", "slow")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"memlong-echo\","
                                    + "\"messages\":[{\"role\":\"user\",\"content\":\"a b c d e f\"}]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("echo: a b c d e f"), r.body());
            // and a connection with nothing in flight is still closed
            try (RawHttp raw = new RawHttp(gw.server.port())) {
                raw.send(RawHttp.get("/healthz", "Host: 127.0.0.1"));
                assertEquals(200, raw.read().status());
                assertTrue(raw.closedByServer());
            }
        }
    }

    @Test
    void aClientThatStopsReadingIsClosedByTheIdleTimeoutAndItsTurnCancelled() throws Exception {
        // a reply of about 10 MB, far more than the socket buffers and the channel's write buffer hold
        try (TestGateway gw = new TestGateway("idle-timeout = 500ms\nmax-message-chars = 11000000\n"
                + "max-frame-bytes = 40M\nmax-body-bytes = 16M", Duration.ZERO, 64)) {
            String words = ("x".repeat(50_000) + " ").repeat(200).strip();
            try (Socket socket = new Socket()) {
                socket.setReceiveBufferSize(4096);
                socket.connect(new InetSocketAddress("127.0.0.1", gw.server.port()));
                socket.getOutputStream().write((chat("stalled", words, true) + chat("behind", "never", false))
                        .getBytes(StandardCharsets.UTF_8));
                socket.getOutputStream().flush();
                // and then it reads nothing: the turn pauses, the idle timeout closes the connection and cancels it
                waitFor(() -> gw.backend.turnsStarted() == 1);
                waitFor(() -> gw.backend.running() == 0, 10_000);
                waitFor(() -> gw.server.metrics().inFlight().get() == 0);
                assertEquals(1, gw.backend.turnsStarted(), "the waiting request never ran");
                socket.setSoTimeout(10_000);
                InputStream in = socket.getInputStream();
                byte[] buf = new byte[1 << 16];
                long read = 0;
                try {
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        read += n;
                    }
                } catch (java.net.SocketException reset) {
                    // closed by the server with data unread: as good as the end of the stream
                }
                assertTrue(read < 9_000_000L, "the whole reply went out: " + read);
            }
        }
    }

    @Test
    void anOversizedPipelinedRequestIsAnsweredInItsTurn() throws Exception {
        try (TestGateway gw = new TestGateway("max-body-bytes = 1k", Duration.ofMillis(40), 64);
             RawHttp raw = new RawHttp(gw.server.port())) {
            raw.send(chat("big1", "one two three four five six seven", true)
                    + chat("big2", "y".repeat(2000), false) + chat("big3", "after", false));
            RawHttp.Response first = raw.read();
            assertEquals(200, first.status());
            assertTrue(first.body().contains("seven") && first.body().endsWith("data: [DONE]\n\n"), first.body());
            RawHttp.Response second = raw.read();
            assertEquals(413, second.status(), second.body());
            assertTrue(second.body().contains("over the limit"), second.body());
            assertTrue(raw.closedByServer());
            assertEquals(1, gw.backend.turnsStarted(), "nothing after the 413 is served");
        }
    }

    @Test
    void noRequestIsServedAfterAnAnswerThatClosesTheConnection() throws Exception {
        try (TestGateway gw = new TestGateway("max-message-chars = 9000000\nmax-frame-bytes = 28M\n"
                + "max-body-bytes = 10M", Duration.ZERO, 64);
             RawHttp raw = new RawHttp(gw.server.port(), 4096)) {
            // an 8 MB answer the client does not read yet, so the 421 behind it (a Host other than loopback, which
            // closes the connection) is written but cannot go out: the completion behind that must not start
            String words = ("z".repeat(20_000) + " ").repeat(400).strip();
            raw.send(chat("big-first", words, false) + RawHttp.get("/healthz", "Host: rebind.example")
                    + chat("after-close", "never", false));
            waitFor(() -> gw.backend.turnsStarted() == 1);
            Thread.sleep(500);
            assertEquals(1, gw.backend.turnsStarted(), "a request behind a closing answer was served");
            RawHttp.Response first = raw.read();
            assertEquals(200, first.status());
            RawHttp.Response second = raw.read();
            assertEquals(421, second.status(), second.body());
            assertTrue(raw.closedByServer());
            assertEquals(1, gw.backend.turnsStarted(), "a request behind a closing answer was served");
        }
    }

    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        waitFor(condition, 2_000);
    }

    static void waitFor(BooleanSupplier condition, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + millis + " ms");
            }
            Thread.sleep(10);
        }
    }

}
