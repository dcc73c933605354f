package dev.memlong.gateway.openai;

import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.TestGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static dev.memlong.gateway.openai.HttpApiTest.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;

class AuthAndRateTest {

    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    private HttpResponse<String> chat(TestGateway gw, String key, String conversation) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gw.http("/v1/chat/completions"))
                .header("X-Conversation-Id", conversation).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"memlong-echo\",\"messages\":[{\"role\":\"user\",\"content\":\"tell alpha\"}]}"));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void bearerKeysBindTenants() throws Exception {
        try (TestGateway gw = new TestGateway(
                "api-keys = [ { key = \"alice-key-1\", tenant = alice }, { key = \"bob-key-22\", tenant = bob } ]")) {
            assertError(chat(gw, null, "c"), 401, "unauthenticated");
            assertError(chat(gw, "nope-nope-nope", "c"), 401, "unauthenticated");
            assertEquals(401, http.send(HttpRequest.newBuilder(gw.http("/v1/models")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(200, chat(gw, "alice-key-1", "c").statusCode());
            assertEquals(200, chat(gw, "bob-key-22", "c").statusCode());
            // the same conversation id in two tenants: two conversations, each with one chunk
            assertEquals(1, gw.backend.conversation("alice", "c").memory().toCompletableFuture().join().size());
            assertEquals(1, gw.backend.conversation("bob", "c").memory().toCompletableFuture().join().size());
            assertEquals(200, http.send(HttpRequest.newBuilder(gw.http("/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    @Test
    void tenantRateLimitGives429AndOtherTenantsGoOn() throws Exception {
        try (TestGateway gw = new TestGateway("rate-limit { requests-per-second = 0.01, burst = 2 }\n"
                + "api-keys = [ { key = \"alice-key-1\", tenant = alice }, { key = \"bob-key-22\", tenant = bob } ]")) {
            assertEquals(200, chat(gw, "alice-key-1", "r1").statusCode());
            assertEquals(200, chat(gw, "alice-key-1", "r2").statusCode());
            assertError(chat(gw, "alice-key-1", "r3"), 429, "rate_limited");
            assertEquals(200, chat(gw, "bob-key-22", "r1").statusCode());
        }
    }
}
