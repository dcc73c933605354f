package dev.memlong.gateway.server;

import dev.memlong.gateway.backend.ChatChunk;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.proto.ClientFrame;
import dev.memlong.gateway.proto.GenerationParams;
import dev.memlong.gateway.proto.ServerFrame;
import dev.memlong.gateway.testing.Frames;
import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.TestGateway;
import dev.memlong.gateway.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * 10,000 malformed, truncated, oversized and out-of-order WebSocket frames and HTTP requests, on loopback, from a
 * fixed seed. Each must get an error (or a clean close); no turn or forget may reach the backend; the stored
 * conversation must not change; the server must stay healthy and leak no buffer.
 */
class FuzzTest {

    private static final int CASES = 10_000;
    private static final String VALID_CHAT =
            "{\"model\":\"memlong-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}],"
                    + "\"stream\":true}";

    private enum Outcome { WS_ERROR, WS_OPENED, WS_CLOSED, HTTP_4XX, TCP_400_OR_CLOSED }

    private final Random random = new Random(20261126L);
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<Outcome, Integer> outcomes = new EnumMap<>(Outcome.class);
    private TestGateway gw;
    private WsClient fresh;   // never opened a conversation
    private WsClient opened;  // has the victim conversation open

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    @Test
    void tenThousandBadInputsEachGetAnErrorAndChangeNothing() throws Exception {
        gw = new TestGateway("max-frame-bytes = 2k, max-body-bytes = 2k, max-message-chars = 200\n"
                + "rate-limit { requests-per-second = 1000000, burst = 1000000 }");
        try {
            gw.backend.conversation("local", "victim").send("keep this safe", ChatParams.greedy(8))
                    .toCompletableFuture().join();
            List<ChatTurn> history = gw.backend.conversation("local", "victim").history().toCompletableFuture().join();
            List<ChatChunk> memory = gw.backend.conversation("local", "victim").memory().toCompletableFuture().join();
            long turnsBefore = gw.backend.turnsStarted();
            long started = System.nanoTime();
            fresh = WsClient.connect(gw.ws(""));
            opened = openVictim();
            for (int i = 0; i < CASES; i++) {
                runCase(i);
            }
            fresh.close();
            opened.close();
            System.out.printf("fuzz: %d cases in %.1f s: %s%n", CASES, (System.nanoTime() - started) / 1e9, outcomes);

            assertEquals(CASES, outcomes.values().stream().mapToInt(Integer::intValue).sum());
            assertEquals(turnsBefore, gw.backend.turnsStarted(), "a malformed input started a turn");
            assertEquals(0, gw.backend.forgets(), "a malformed input forgot something");
            assertEquals(history, gw.backend.conversation("local", "victim").history().toCompletableFuture().join());
            assertEquals(memory, gw.backend.conversation("local", "victim").memory().toCompletableFuture().join());
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(gw.http("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertEquals("{\"status\":\"ok\"}", health.body());
        } finally {
            gw.close();
        }
    }

    private WsClient openVictim() throws InterruptedException {
        WsClient c = WsClient.connect(gw.ws(""));
        c.send(Frames.open("o", "victim", false));
        assertTrue(c.next().hasOpened());
        return c;
    }

    private void runCase(int i) throws Exception {
        switch (i % 10) {
            case 0 -> freshBinary(randomBytes(random.nextInt(300)));
            case 1 -> freshText(randomJsonish());
            case 2 -> freshBinary(truncate(randomValidFrame().toByteArray()));
            case 3 -> oversized();
            case 4 -> freshBinary(outOfOrderFrame().toByteArray());
            case 5 -> openedInvalid();
            case 6 -> httpChat(randomBytes(random.nextInt(400)));
            case 7 -> httpChat(truncate(VALID_CHAT.getBytes(StandardCharsets.UTF_8)));
            case 8 -> httpChat(random.nextBoolean() ? randomBytes(2049 + random.nextInt(4000))
                    : ("{\"messages\":[{\"role\":\"user\",\"content\":\"" + "a".repeat(3000) + "\"}]}")
                    .getBytes(StandardCharsets.UTF_8));
            default -> {
                if (i % 100 == 9) {
                    rawTcpGarbage();
                } else {
                    httpInvalid();
                }
            }
        }
    }

    // ---- WebSocket

    private void freshBinary(byte[] bytes) throws Exception {
        fresh.sendBytes(bytes);
        expectWs(fresh, true);
    }

    private void freshText(String text) throws Exception {
        fresh.sendText(text);
        expectWs(fresh, true);
    }

    private void oversized() throws Exception {
        WsClient c = random.nextBoolean() ? fresh : opened;
        switch (random.nextInt(3)) {
            case 0 -> c.sendBytes(randomBytes(2049 + random.nextInt(3000)));
            case 1 -> c.sendText("{\"message\":{\"requestId\":\"x\",\"text\":\"" + "b".repeat(2100) + "\"}}");
            // every frame under the limit, the message over it: the aggregator, not the frame decoder, refuses it
            default -> c.sendFragments(randomBytes(700 + random.nextInt(1348)), randomBytes(700 + random.nextInt(1348)),
                    randomBytes(700 + random.nextInt(1348)));
        }
        WsClient.Received r = c.poll(Duration.ofSeconds(5));
        if (r == null || !r.isClose() || r.closeCode() != 1009) {
            fail("oversized frame or message: expected close 1009, got " + r);
        }
        count(Outcome.WS_CLOSED);
        c.socket.abort();
        if (c == fresh) {
            fresh = WsClient.connect(gw.ws(""));
        } else {
            opened = openVictim();
        }
    }

    private void openedInvalid() throws Exception {
        String id = "r" + random.nextInt(1000);
        ClientFrame frame = switch (random.nextInt(9)) {
            case 0 -> Frames.message(id, "");
            case 1 -> Frames.message(id, " \t\n ");
            case 2 -> Frames.message(id, "c".repeat(201));
            case 3 -> Frames.message(id, "hi", GenerationParams.newBuilder().setTemperature(-random.nextDouble() - 0.1).build());
            case 4 -> Frames.message(id, "hi", GenerationParams.newBuilder().setTopP(random.nextBoolean() ? 0 : 1.5).build());
            case 5 -> Frames.message(id, "hi", GenerationParams.newBuilder().setMaxNewTokens(random.nextBoolean() ? 0 : 5000).build());
            case 6 -> Frames.message("", "hi");
            case 7 -> Frames.message("i".repeat(129), "hi");
            default -> random.nextBoolean() ? Frames.cancel(id) : Frames.message(id, "hi",
                    GenerationParams.newBuilder().setTemperature(Double.NaN).build());
        };
        if (random.nextBoolean()) {
            opened.send(frame);
        } else {
            opened.sendJson(frame);
        }
        WsClient.Received r = opened.poll(Duration.ofSeconds(5));
        if (r == null || r.isClose() || !r.frame().hasError()) {
            fail("opened session, invalid " + frame + ": expected an error, got " + r);
        }
        count(Outcome.WS_ERROR);
    }

    /** After an input on the fresh (never opened) session: an error, an Opened (reconnect), or a close (reconnect). */
    private void expectWs(WsClient c, boolean freshSession) throws Exception {
        WsClient.Received r = c.poll(Duration.ofSeconds(5));
        if (r == null) {
            fail("no answer within 5 s");
        }
        if (r.isClose()) {
            count(Outcome.WS_CLOSED);
        } else {
            ServerFrame f = r.frame();
            if (f.hasError()) {
                count(Outcome.WS_ERROR);
                return;
            }
            if (!(freshSession && f.hasOpened())) {
                fail("unexpected answer " + f);
            }
            count(Outcome.WS_OPENED); // random bytes that happen to be a valid open: start over unopened
        }
        c.socket.abort();
        fresh = WsClient.connect(gw.ws(""));
    }

    private ClientFrame randomValidFrame() {
        String id = "id-" + random.nextInt(100_000);
        return switch (random.nextInt(4)) {
            case 0 -> Frames.message(id, "some text to truncate " + random.nextInt());
            case 1 -> Frames.open(id, "victim", random.nextBoolean());
            case 2 -> Frames.forget(id);
            default -> Frames.message(id, "x", GenerationParams.newBuilder().setMaxNewTokens(9).setTopP(0.5)
                    .addStop("stop").build());
        };
    }

    private ClientFrame outOfOrderFrame() {
        String id = "ooo-" + random.nextInt(100_000);
        return switch (random.nextInt(4)) {
            case 0 -> Frames.message(id, "before open");
            case 1 -> Frames.listMemory(id);
            case 2 -> Frames.forget(id);
            default -> Frames.cancel(id);
        };
    }

    private String randomJsonish() {
        String[] pieces = {"{", "}", "[", "]", "\"message\"", "\"open\"", "\"forget\"", ":", ",", "\"text\"", "1e999",
                "null", "true", "\"requestId\"", "\"\\u0000\"", "\"params\"", "{\"maxNewTokens\":-1}", "\"x\"", "0"};
        if (random.nextInt(4) == 0) {
            String json = "{\"message\":{\"requestId\":\"j\",\"text\":\"hi\",\"params\":{\"topK\":3}}}";
            return json.substring(0, random.nextInt(json.length()));
        }
        StringBuilder sb = new StringBuilder();
        int n = random.nextInt(20);
        for (int k = 0; k < n; k++) {
            sb.append(pieces[random.nextInt(pieces.length)]);
        }
        return sb.toString();
    }

    // ---- HTTP

    private void httpChat(byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gw.http("/v1/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).timeout(Duration.ofSeconds(10));
        if (random.nextBoolean()) {
            b.header("X-Conversation-Id", "victim");
        }
        expectHttp4xx(http.send(b.build(), HttpResponse.BodyHandlers.ofString()), body.length);
    }

    private void httpInvalid() throws Exception {
        HttpRequest request = switch (random.nextInt(8)) {
            case 0 -> post("{\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}");
            case 1 -> post("{\"messages\":[{\"role\":\"user\",\"content\":42}]}");
            case 2 -> post("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":\"hot\"}");
            case 3 -> post("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":3}");
            // everything already in the log: nothing new to answer
            case 4 -> post("{\"model\":\"memlong-echo\","
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"keep this safe\"},"
                    + "{\"role\":\"assistant\",\"content\":\"echo: keep this safe\"}]}");
            case 5 -> HttpRequest.newBuilder(gw.http("/v1/chat/completions")).GET().build();
            case 6 -> HttpRequest.newBuilder(gw.http("/" + Integer.toHexString(random.nextInt()))).GET().build();
            default -> HttpRequest.newBuilder(gw.http("/v1/chat/completions")).header("X-Conversation-Id", "v".repeat(129))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(VALID_CHAT)).build();
        };
        expectHttp4xx(http.send(request, HttpResponse.BodyHandlers.ofString()), -1);
    }

    private HttpRequest post(String body) {
        return HttpRequest.newBuilder(gw.http("/v1/chat/completions")).header("X-Conversation-Id", "victim")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private void expectHttp4xx(HttpResponse<String> r, int bodyLength) {
        if (r.statusCode() < 400 || r.statusCode() >= 500) {
            fail("expected a 4xx for a " + bodyLength + "-byte body, got " + r.statusCode() + ": " + r.body());
        }
        count(Outcome.HTTP_4XX);
    }

    private void rawTcpGarbage() throws Exception {
        try (Socket s = new Socket("127.0.0.1", gw.server.port())) {
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(randomBytes(1 + random.nextInt(200)));
            out.write("\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] head = in.readNBytes(12);
            String status = new String(head, StandardCharsets.US_ASCII);
            if (head.length != 0 && !status.startsWith("HTTP/1.1 4")) {
                fail("raw garbage: expected a 4xx or a close, got " + status);
            }
            count(Outcome.TCP_400_OR_CLOSED);
        }
    }

    // ---- helpers

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private byte[] truncate(byte[] full) {
        return Arrays.copyOf(full, random.nextInt(full.length));
    }

    private void count(Outcome o) {
        outcomes.merge(o, 1, Integer::sum);
    }
}
