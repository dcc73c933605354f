package dev.memlong.gateway.ws;

import dev.memlong.gateway.proto.ClientFrame;
import dev.memlong.gateway.proto.ErrorCode;
import dev.memlong.gateway.proto.GenerationParams;
import dev.memlong.gateway.proto.ServerFrame;
import dev.memlong.gateway.proto.UserMessage;
import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.RawWs;
import dev.memlong.gateway.testing.TestGateway;
import dev.memlong.gateway.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

import static dev.memlong.gateway.testing.Frames.cancel;
import static dev.memlong.gateway.testing.Frames.forget;
import static dev.memlong.gateway.testing.Frames.listMemory;
import static dev.memlong.gateway.testing.Frames.message;
import static dev.memlong.gateway.testing.Frames.open;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebSocketSessionTest {

    /** A small frame limit, and a message limit it can carry (the settings refuse one it cannot). */
    private static final String SMALL_FRAMES = "max-frame-bytes = 2k, max-message-chars = 300";

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    @Test
    void binaryFramesStreamDeltasThenDoneWithRetrievedChunks() throws Exception {
        try (TestGateway gw = new TestGateway(""); WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(open("o1", "conv", false));
            ServerFrame opened = c.next();
            assertEquals("local", opened.getOpened().getTenant());
            assertEquals("conv", opened.getOpened().getConversationId());

            c.send(message("m1", "my dog is called Rex"));
            List<ServerFrame> first = c.untilEnd("m1");
            String streamed = first.stream().filter(ServerFrame::hasDelta).map(f -> f.getDelta().getText())
                    .collect(Collectors.joining());
            ServerFrame done = first.get(first.size() - 1);
            assertEquals("echo: my dog is called Rex", streamed);
            assertEquals(streamed, done.getDone().getText());
            assertEquals(6, done.getDone().getUsage().getCompletionTokens());
            assertEquals("stop", done.getDone().getFinishReason());
            assertEquals(0, done.getDone().getRetrievedCount());

            c.send(message("m2", "what is my dog called"));
            List<ServerFrame> second = c.untilEnd("m2");
            var retrieved = second.get(second.size() - 1).getDone().getRetrievedList();
            assertEquals(1, retrieved.size());
            assertEquals("my dog is called Rex", retrieved.get(0).getText());
            for (int i = 0; i < second.size() - 1; i++) {
                assertEquals(i, second.get(i).getDelta().getIndex());
            }
        }
    }

    @Test
    void jsonTextFramesGetJsonAnswers() throws Exception {
        try (TestGateway gw = new TestGateway(""); WsClient c = WsClient.connect(gw.ws(""))) {
            c.sendText("{\"open\":{\"requestId\":\"o\",\"conversationId\":\"j\"}}");
            WsClient.Received opened = c.poll(Duration.ofSeconds(5));
            assertTrue(opened.json());
            c.sendText("{\"message\":{\"request_id\":\"m\",\"text\":\"hello there\",\"params\":{\"maxNewTokens\":2}}}");
            List<ServerFrame> frames = c.untilEnd("m");
            ServerFrame done = frames.get(frames.size() - 1);
            assertEquals("echo: hello", done.getDone().getText());
            assertEquals("length", done.getDone().getFinishReason());
            c.sendText("{\"listMemory\":{\"requestId\":\"l\"}}");
            WsClient.Received memory = c.poll(Duration.ofSeconds(5));
            assertTrue(memory.json());
            assertEquals("hello there", memory.frame().getMemory().getChunks(0).getText());
        }
    }

    @Test
    void aMessageCanSetTheConversationsSystemPrompt() throws Exception {
        try (TestGateway gw = new TestGateway(""); WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(open("o", "sys", false));
            String tenant = c.next().getOpened().getTenant();
            var conversation = (dev.memlong.gateway.backend.echo.EchoConversation) gw.backend.conversation(tenant, "sys");
            c.sendText("{\"message\":{\"requestId\":\"m\",\"text\":\"hi\",\"systemPrompt\":\"Be terse.\"}}");
            assertTrue(c.untilEnd("m").getLast().hasDone());
            assertEquals("Be terse.", conversation.systemPrompt());
            c.send(message("k", "again")); // unset keeps it
            assertTrue(c.untilEnd("k").getLast().hasDone());
            assertEquals("Be terse.", conversation.systemPrompt());
        }
    }

    @Test
    void historyMemoryAndForget() throws Exception {
        try (TestGateway gw = new TestGateway(""); WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(open("o", "h", false));
            c.next();
            c.send(message("m", "remember apples"));
            c.untilEnd("m");
            try (WsClient again = WsClient.connect(gw.ws(""))) {
                again.send(open("o2", "h", true));
                var history = again.next().getOpened().getHistoryList();
                assertEquals(List.of("user", "assistant"), history.stream().map(h -> h.getRole()).toList());
                assertEquals("remember apples", history.get(0).getText());
            }
            c.send(listMemory("l"));
            assertEquals(1, c.next().getMemory().getChunksCount());
            c.send(forget("f"));
            assertTrue(c.next().getForgotten().getExisted());
            c.send(listMemory("l2"));
            assertEquals(0, c.next().getMemory().getChunksCount());
        }
    }

    @Test
    void cancelEndsTheTurnWithCancelledAndFreesTheBackend() throws Exception {
        try (TestGateway gw = new TestGateway("", Duration.ofMillis(50), 64);
             WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(open("o", "c", false));
            c.next();
            c.send(message("m", "one two three four five six seven eight nine ten eleven twelve"));
            assertTrue(c.next().hasDelta());
            c.send(cancel("m"));
            List<ServerFrame> rest = c.untilEnd("m");
            ServerFrame last = rest.get(rest.size() - 1);
            assertEquals(ErrorCode.CANCELLED, last.getError().getCode());
            waitFor(() -> gw.backend.running() == 0);
            c.send(cancel("m"));
            assertEquals(ErrorCode.NOT_FOUND, c.next().getError().getCode());
            c.send(listMemory("l"));
            assertEquals(0, c.next().getMemory().getChunksCount(), "a cancelled turn is not committed");
        }
    }

    @Test
    void closingTheConnectionCancelsItsTurns() throws Exception {
        try (TestGateway gw = new TestGateway("", Duration.ofMillis(50), 64)) {
            WsClient c = WsClient.connect(gw.ws(""));
            c.send(open("o", "c", false));
            c.next();
            c.send(message("m", "a b c d e f g h i j k l m n o p"));
            assertTrue(c.next().hasDelta());
            c.socket.abort();
            waitFor(() -> gw.backend.running() == 0);
        }
    }

    @Test
    void protocolErrorsAreTypedAndTheConnectionSurvives() throws Exception {
        try (TestGateway gw = new TestGateway("max-message-chars = 20, max-concurrent-requests-per-connection = 2",
                Duration.ofMillis(100), 64); WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(message("early", "hi"));
            assertError(c, "early", ErrorCode.OUT_OF_ORDER);
            c.send(open("o", "", false));
            assertError(c, "o", ErrorCode.INVALID);
            c.send(open("o", "e", false));
            c.next();
            c.send(message("", "hi"));
            assertError(c, "", ErrorCode.INVALID);
            c.send(message("long", "x".repeat(21)));
            assertError(c, "long", ErrorCode.TOO_LARGE);
            c.send(ClientFrame.newBuilder().setMessage(UserMessage.newBuilder().setRequestId("sys").setText("hi")
                    .setSystemPrompt("y".repeat(21))).build());
            assertError(c, "sys", ErrorCode.TOO_LARGE);
            c.send(message("blank", "   "));
            assertError(c, "blank", ErrorCode.INVALID);
            c.send(message("t", "hot", GenerationParams.newBuilder().setTemperature(-1).build()));
            assertError(c, "t", ErrorCode.INVALID);
            c.send(message("big", "hi", GenerationParams.newBuilder().setMaxNewTokens(1_000_000).build()));
            assertError(c, "big", ErrorCode.INVALID);
            c.sendBytes(new byte[] {(byte) 0xff, 0x01, 0x02});
            assertError(c, "", ErrorCode.INVALID);
            c.sendText("{\"nope\":1}");
            assertError(c, "", ErrorCode.INVALID);
            c.sendText("{}");
            assertError(c, "", ErrorCode.INVALID);

            // from here on "a" and "b" stream deltas (and may finish) between the errors expected
            java.util.Set<String> done = new java.util.HashSet<>();
            c.send(message("a", "one two three"));
            c.send(message("a", "again"));
            assertErrorAmong(c, "a", ErrorCode.OUT_OF_ORDER, done); // duplicate id in flight
            c.send(message("b", "one two"));
            c.send(message("c", "three"));
            assertErrorAmong(c, "c", ErrorCode.TOO_MANY_REQUESTS, done);
            c.send(open("o2", "other", false));
            assertErrorAmong(c, "o2", ErrorCode.OUT_OF_ORDER, done);
            java.util.Set<String> open = new java.util.HashSet<>(List.of("a", "b"));
            open.removeAll(done);
            while (!open.isEmpty()) {
                ServerFrame f = c.next();
                if (f.hasDone()) {
                    open.remove(f.getDone().getRequestId());
                }
            }
            c.send(message("after", "still fine"));
            List<ServerFrame> end = c.untilEnd("after");
            assertTrue(end.get(end.size() - 1).hasDone());
        }
    }

    @Test
    void backendErrorsReachTheClient() throws Exception {
        try (TestGateway gw = new TestGateway("", Duration.ZERO, 1); WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(open("o", "b", false));
            c.next();
            c.send(message("x", "!overloaded now"));
            assertError(c, "x", ErrorCode.OVERLOADED);
            c.send(message("y", "!fail now"));
            assertError(c, "y", ErrorCode.INTERNAL);
            // errors of the backend count as well as the gateway's own
            var registry = gw.server.metrics().registry();
            assertEquals(1.0, registry.get("memlong.gateway.errors").tag("code", "overloaded").counter().count());
            assertEquals(1.0, registry.get("memlong.gateway.errors").tag("code", "internal").counter().count());
        }
    }

    @Test
    void tenantRateLimitIsTyped() throws Exception {
        try (TestGateway gw = new TestGateway("rate-limit { requests-per-second = 0.001, burst = 3 }");
             WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(open("o", "r", false)); // 1
            c.next();
            c.send(listMemory("l1")); // 2
            c.next();
            c.send(listMemory("l2")); // 3
            c.next();
            c.send(listMemory("l3"));
            assertError(c, "l3", ErrorCode.RATE_LIMITED);
            c.send(cancel("zzz")); // cancels are not rate limited
            assertError(c, "zzz", ErrorCode.NOT_FOUND);
        }
    }

    @Test
    void oversizedFrameClosesWith1009AndTheServerStaysUp() throws Exception {
        try (TestGateway gw = new TestGateway(SMALL_FRAMES); WsClient c = WsClient.connect(gw.ws(""))) {
            c.sendBytes(new byte[4096]);
            assertEquals(1009, c.closeCode(Duration.ofSeconds(5)));
            try (WsClient d = WsClient.connect(gw.ws(""))) {
                d.send(open("o", "x", false));
                assertTrue(d.next().hasOpened());
            }
        }
    }

    @Test
    void withTheShippedLimitsAMessageOneCharacterTooLongIsATypedErrorInAnyScript() throws Exception {
        int limit = dev.memlong.gateway.config.GatewaySettings.defaults().maxMessageChars();
        String cjk = "記".repeat(limit + 1); // 3 bytes a character in UTF-8
        try (TestGateway gw = new TestGateway(""); WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(open("o", "cjk", false));
            assertTrue(c.next().hasOpened());
            c.send(message("bin", cjk));
            assertError(c, "bin", ErrorCode.TOO_LARGE);
            c.sendJson(message("json", cjk));
            assertError(c, "json", ErrorCode.TOO_LARGE);
            c.send(message("ok", "記".repeat(limit), GenerationParams.newBuilder().setMaxNewTokens(4).build()));
            List<ServerFrame> end = c.untilEnd("ok");
            assertTrue(end.get(end.size() - 1).hasDone(), "a message at the limit is served: " + end);
        }
    }

    @Test
    void aMessageOverTheLimitAcrossContinuationFramesClosesWith1009() throws Exception {
        // each fragment fits max-frame-bytes; only their sum does not, which the frame aggregator finds
        try (TestGateway gw = new TestGateway(SMALL_FRAMES); WsClient c = WsClient.connect(gw.ws(""))) {
            c.sendFragments(new byte[1500], new byte[1500], new byte[10]);
            assertEquals(1009, c.closeCode(Duration.ofSeconds(5)), "a close frame saying why, not a dropped socket");
        }
    }

    @Test
    void aCompressedMessageThatInflatesTooFarClosesWith1009() throws Exception {
        try (TestGateway gw = new TestGateway(SMALL_FRAMES);
             RawWs c = new RawWs(gw.server.port(), true)) {
            assertTrue(c.deflate, "the server accepts permessage-deflate");
            byte[] bomb = RawWs.deflated(new byte[200_000]); // a few hundred bytes on the wire
            assertTrue(bomb.length < 2048);
            c.send(RawWs.BINARY, true, true, bomb);
            RawWs.Frame close = c.untilClose();
            assertTrue(close != null, "a close frame, not a dropped socket");
            assertEquals(1009, close.closeCode());
        }
    }

    @Test
    void aCompressedMessageWithinTheLimitIsServed() throws Exception {
        try (TestGateway gw = new TestGateway(SMALL_FRAMES);
             RawWs c = new RawWs(gw.server.port(), true)) {
            c.send(RawWs.BINARY, true, true, RawWs.deflated(open("o", "z", false).toByteArray()));
            RawWs.Frame answer = c.read();
            assertTrue(answer != null && !answer.isClose(), "an answer: " + answer);
        }
    }

    @Test
    void anIdleWebSocketIsToldWhyItIsClosed() throws Exception {
        try (TestGateway gw = new TestGateway("idle-timeout = 300ms"); WsClient c = WsClient.connect(gw.ws(""))) {
            c.send(open("o", "idle", false));
            assertTrue(c.next().hasOpened());
            assertEquals(1001, c.closeCode(Duration.ofSeconds(5)), "going away, in a close frame");
        }
    }

    @Test
    void aClientThatStopsReadingIsClosedByTheIdleTimeoutAndItsTurnCancelled() throws Exception {
        // a reply of about 10 MB, far more than the socket buffers and the channel's write buffer hold
        try (TestGateway gw = new TestGateway("idle-timeout = 500ms\nmax-message-chars = 11000000\n"
                + "max-frame-bytes = 40M", Duration.ZERO, 64);
             RawWs c = new RawWs(gw.server.port(), false, 4096)) {
            c.send(RawWs.BINARY, true, false, open("o", "stalled", false).toByteArray());
            RawWs.Frame opened = c.read();
            assertTrue(opened != null && !opened.isClose(), "opened: " + opened);
            String words = ("x".repeat(50_000) + " ").repeat(200).strip();
            c.send(RawWs.BINARY, true, false, message("m", words).toByteArray());
            // and then it reads nothing: the turn pauses, the idle timeout closes the connection and cancels it
            waitFor(() -> gw.backend.turnsStarted() == 1);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (gw.backend.running() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, gw.backend.running(), "the stalled turn was cancelled");
            waitFor(() -> gw.server.metrics().inFlight().get() == 0);
        }
    }

    @Test
    void keysBindTenantsAndIsolateConversations() throws Exception {
        String keys = "api-keys = [ { key = \"key-of-alice\", tenant = alice }, { key = \"key-of-bob-1\", tenant = bob } ]";
        try (TestGateway gw = new TestGateway(keys)) {
            var http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
            assertThrows(java.util.concurrent.CompletionException.class, () -> WsClient.connect(gw.ws("")));
            assertThrows(java.util.concurrent.CompletionException.class,
                    () -> WsClient.connect(gw.ws(""), "wrong-key-123"));
            try (WsClient alice = WsClient.connect(gw.ws(""), "key-of-alice");
                 WsClient bob = WsClient.connect(gw.ws("?api_key=key-of-bob-1"))) {
                alice.send(open("o", "shared-id", false));
                assertEquals("alice", alice.next().getOpened().getTenant());
                bob.send(open("o", "shared-id", false));
                assertEquals("bob", bob.next().getOpened().getTenant());
                alice.send(message("m", "alice secret pineapple"));
                alice.untilEnd("m");
                bob.send(listMemory("l"));
                assertEquals(0, bob.next().getMemory().getChunksCount());
                bob.send(message("m", "pineapple please"));
                List<ServerFrame> frames = bob.untilEnd("m");
                assertEquals(0, frames.get(frames.size() - 1).getDone().getRetrievedCount());
                bob.send(forget("f"));
                assertTrue(bob.next().getForgotten().getExisted());
                alice.send(listMemory("l"));
                assertEquals(1, alice.next().getMemory().getChunksCount());
            }
            HttpResponse<String> health = http.send(java.net.http.HttpRequest.newBuilder(gw.http("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), "health needs no key");
        }
    }

    static void assertError(WsClient c, String requestId, ErrorCode code) throws InterruptedException {
        ServerFrame f = c.next();
        assertTrue(f.hasError(), "expected an error, got " + f);
        assertEquals(code, f.getError().getCode(), f.getError().getMessage());
        assertEquals(requestId, f.getError().getRequestId());
    }

    /**
     * The next error, which must be {@code code} for {@code requestId}, skipping the deltas and dones of turns
     * streaming meanwhile (the ids of those done go to {@code done}).
     */
    static void assertErrorAmong(WsClient c, String requestId, ErrorCode code, java.util.Set<String> done)
            throws InterruptedException {
        while (true) {
            ServerFrame f = c.next();
            if (f.hasDelta()) {
                continue;
            }
            if (f.hasDone()) {
                done.add(f.getDone().getRequestId());
                continue;
            }
            assertTrue(f.hasError(), "expected an error, got " + f);
            assertEquals(code, f.getError().getCode(), f.getError().getMessage());
            assertEquals(requestId, f.getError().getRequestId());
            return;
        }
    }

    static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5 s");
            }
            Thread.sleep(10);
        }
    }
}
