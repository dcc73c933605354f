package dev.memlong.gateway.server;

import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.RawHttp;
import dev.memlong.gateway.testing.TestGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One request at a time per HTTP connection, a client that leaves cancels its turn, and a busy one is not idle. */
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

    static void waitFor(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 2 s");
            }
            Thread.sleep(10);
        }
    }
}
