package dev.memlong.gateway.security;

import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.RawHttp;
import dev.memlong.gateway.testing.TestGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A web page the user visits must not reach the keyless (loopback, anonymous tenant) gateway: not by a
 * cross-origin WebSocket, not by a "simple" POST without preflight, not by DNS rebinding. The gateway's own page,
 * configured origins and non-browser clients still get in.
 */
class BrowserGuardTest {

    private static final String CHAT =
            "{\"model\":\"memlong-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"secret plans\"}]}";

    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    /** The status of a WebSocket upgrade request with these extra header lines. */
    private static int upgrade(TestGateway gw, String... headers) throws Exception {
        String[] all = new String[headers.length + 4];
        all[0] = "Upgrade: websocket";
        all[1] = "Connection: Upgrade";
        all[2] = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";
        all[3] = "Sec-WebSocket-Version: 13";
        System.arraycopy(headers, 0, all, 4, headers.length);
        try (RawHttp raw = new RawHttp(gw.server.port())) {
            raw.send(RawHttp.get("/ws", all));
            return raw.read().status();
        }
    }

    @Test
    void webSocketUpgradeChecksTheOrigin() throws Exception {
        try (TestGateway gw = new TestGateway("allowed-origins = [ \"https://chat.example.com\" ]")) {
            String host = "127.0.0.1:" + gw.server.port();
            assertEquals(101, upgrade(gw, "Host: " + host), "no Origin: not a browser");
            assertEquals(101, upgrade(gw, "Host: " + host, "Origin: http://" + host), "the gateway's own page");
            assertEquals(101, upgrade(gw, "Host: localhost:" + gw.server.port(),
                    "Origin: http://localhost:" + gw.server.port()), "its own page under another loopback name");
            assertEquals(101, upgrade(gw, "Host: " + host, "Origin: https://chat.example.com"), "allowed-origins");
            assertEquals(403, upgrade(gw, "Host: " + host, "Origin: https://evil.example"));
            assertEquals(403, upgrade(gw, "Host: " + host, "Origin: null"));
            assertEquals(403, upgrade(gw, "Host: " + host, "Origin: http://127.0.0.1:1"), "another port is another site");
        }
    }

    @Test
    void keylessModeAnswersOnlyToLoopbackHostNames() throws Exception {
        try (TestGateway gw = new TestGateway("")) {
            int port = gw.server.port();
            for (String host : new String[] {"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port, "LocalHost"}) {
                try (RawHttp raw = new RawHttp(port)) {
                    raw.send(RawHttp.get("/v1/models", "Host: " + host));
                    assertEquals(200, raw.read().status(), host);
                }
            }
            // a page at http://rebound.example:PORT whose name now resolves to 127.0.0.1: same origin to the browser
            String rebound = "rebound.example:" + port;
            try (RawHttp raw = new RawHttp(port)) {
                raw.send(RawHttp.post("/v1/chat/completions", CHAT, "Host: " + rebound,
                        "Content-Type: application/json", "X-Conversation-Id: c"));
                RawHttp.Response r = raw.read();
                assertEquals(421, r.status(), r.body());
                assertTrue(r.body().contains("\"error\""), r.body());
            }
            assertEquals(421, upgrade(gw, "Host: " + rebound, "Origin: http://" + rebound));
            assertEquals(0, gw.backend.turnsStarted());
        }
    }

    @Test
    void withApiKeysAnyHostNameIsServed() throws Exception {
        try (TestGateway gw = new TestGateway("api-keys = [ { key = \"alice-key-1\", tenant = alice } ]");
             RawHttp raw = new RawHttp(gw.server.port())) {
            raw.send(RawHttp.get("/v1/models", "Host: gateway.internal.example", "Authorization: Bearer alice-key-1"));
            assertEquals(200, raw.read().status());
        }
    }

    @Test
    void completionsTakeOnlyJson() throws Exception {
        try (TestGateway gw = new TestGateway("")) {
            for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", null}) {
                HttpRequest.Builder b = HttpRequest.newBuilder(gw.http("/v1/chat/completions"))
                        .header("X-Conversation-Id", "c").POST(HttpRequest.BodyPublishers.ofString(CHAT));
                if (type != null) {
                    b.header("Content-Type", type);
                }
                HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(415, r.statusCode(), type + ": " + r.body());
            }
            assertEquals(0, gw.backend.turnsStarted());
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(gw.http("/v1/chat/completions"))
                    .header("X-Conversation-Id", "c").header("Content-Type", "Application/JSON; charset=utf-8")
                    .POST(HttpRequest.BodyPublishers.ofString(CHAT)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode(), ok.body());
        }
    }
}
