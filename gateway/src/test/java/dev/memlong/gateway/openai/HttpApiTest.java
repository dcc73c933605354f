package dev.memlong.gateway.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.memlong.gateway.backend.BackendStats;
import dev.memlong.gateway.backend.ChatBackend;
import dev.memlong.gateway.backend.ChatConversation;
import dev.memlong.gateway.config.GatewaySettings;
import dev.memlong.gateway.server.GatewayServer;
import dev.memlong.gateway.testing.LeakRecorder;
import dev.memlong.gateway.testing.TestGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
    private TestGateway gw;

    @BeforeEach
    void start() {
        gw = new TestGateway("max-body-bytes = 4k, max-message-chars = 1000");
    }

    @AfterEach
    void stop() {
        gw.close();
    }

    @AfterAll
    static void noLeaks() {
        LeakRecorder.assertNoLeaks();
    }

    private HttpResponse<String> post(String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(gw.http(path)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(gw.http(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String chat(boolean stream, String... userAssistant) {
        StringBuilder sb = new StringBuilder("{\"model\":\"memlong-echo\",\"stream\":" + stream + ",\"messages\":[");
        sb.append("{\"role\":\"system\",\"content\":\"be nice\"}");
        for (int i = 0; i < userAssistant.length; i++) {
            sb.append(",{\"role\":\"").append(i % 2 == 0 ? "user" : "assistant").append("\",\"content\":\"")
                    .append(userAssistant[i]).append("\"}");
        }
        return sb.append("]}").toString();
    }

    @Test
    void healthModelsAndMetrics() throws Exception {
        assertEquals("{\"status\":\"ok\"}", get("/healthz").body());
        JsonNode models = JSON.readTree(get("/v1/models").body());
        assertEquals("memlong-echo", models.get("data").get(0).get("id").asText());
        post("/v1/chat/completions", chat(false, "count the tokens"), "X-Conversation-Id", "m");
        String metrics = get("/metrics").body();
        for (String name : List.of("memlong_tokens_generated_total 4.0", "memlong_tokens_per_second",
                "memlong_batch_size", "memlong_queue_depth", "memlong_ttft_seconds", "memlong_retrieval_latency_seconds",
                "memlong_memory_chunk_reads_total{source=\"disk\"} 0.0", "memlong_memory_bank_chunks 1.0", "memlong_memory_bank_tokens", "memlong_conversations{state=\"active\"} 1.0",
                "memlong_conversations{state=\"passivated\"}", "memlong_trainer_rounds_total", "memlong_trainer_rounds_published_total",
                "memlong_gateway_connections", "memlong_gateway_requests_total{kind=\"chat\",protocol=\"http\"} 1.0")) {
            assertTrue(metrics.contains(name), name + " missing from\n" + metrics);
        }
    }

    @Test
    void nonStreamingCompletion() throws Exception {
        HttpResponse<String> r = post("/v1/chat/completions", chat(false, "hello world"), "X-Conversation-Id", "a");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertEquals("chat.completion", body.get("object").asText());
        assertEquals("echo: hello world", body.at("/choices/0/message/content").asText());
        assertEquals("stop", body.at("/choices/0/finish_reason").asText());
        assertEquals(3, body.at("/usage/completion_tokens").asInt());
    }

    @Test
    void streamingCompletionEndsWithDone() throws Exception {
        String body = chat(true, "stream me please").replace("\"stream\":true",
                "\"stream\":true,\"stream_options\":{\"include_usage\":true}");
        HttpResponse<String> r = post("/v1/chat/completions", body, "X-Conversation-Id", "s");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<String> events = new ArrayList<>();
        for (String line : r.body().split("\n")) {
            if (line.startsWith("data: ")) {
                events.add(line.substring(6));
            }
        }
        assertEquals("[DONE]", events.get(events.size() - 1));
        StringBuilder text = new StringBuilder();
        for (String e : events.subList(0, events.size() - 1)) {
            JsonNode chunk = JSON.readTree(e);
            assertEquals("chat.completion.chunk", chunk.get("object").asText());
            text.append(chunk.at("/choices/0/delta/content").asText(""));
        }
        assertEquals("echo: stream me please", text.toString());
        JsonNode usage = JSON.readTree(events.get(events.size() - 2));
        assertEquals(4, usage.at("/usage/completion_tokens").asInt());
    }

    @Test
    void resentHistoryIsNotProcessedAgain() throws Exception {
        post("/v1/chat/completions", chat(false, "first thing"), "X-Conversation-Id", "h");
        HttpResponse<String> r = post("/v1/chat/completions",
                chat(false, "first thing", "echo: first thing", "second thing"), "X-Conversation-Id", "h");
        assertEquals("echo: second thing", JSON.readTree(r.body()).at("/choices/0/message/content").asText());
        assertEquals(2, gw.backend.turnsStarted());
        HttpResponse<String> again = post("/v1/chat/completions",
                chat(false, "first thing", "echo: first thing", "second thing", "echo: second thing"),
                "X-Conversation-Id", "h");
        assertEquals(400, again.statusCode(), "nothing new: " + again.body());
        // the user field names the conversation too; the first thing is retrieved from memory
        HttpResponse<String> viaUser = post("/v1/chat/completions",
                chat(false, "first thing", "echo: first thing", "second thing", "echo: second thing", "third thing")
                        .replace("{\"model\"", "{\"user\":\"h\",\"model\""));
        JsonNode reply = JSON.readTree(viaUser.body());
        assertEquals("echo: third thing", reply.at("/choices/0/message/content").asText());
        assertEquals(2, reply.at("/memlong/retrieved").size());
    }

    @Test
    void errorsAreOpenAiShapedWithStatuses() throws Exception {
        assertError(post("/v1/chat/completions", "{not json", "X-Conversation-Id", "e"), 400, "invalid");
        assertError(post("/v1/chat/completions", "{\"messages\":[]}", "X-Conversation-Id", "e"), 400, "invalid");
        assertError(post("/v1/chat/completions", chat(false, "hi")), 400, "invalid"); // no conversation
        assertError(post("/v1/chat/completions", chat(false, "x".repeat(1001)), "X-Conversation-Id", "e"), 413,
                "too_large");
        assertError(post("/v1/chat/completions", chat(false, "y".repeat(5000)), "X-Conversation-Id", "e"), 413,
                "too_large");
        assertError(post("/v1/chat/completions", chat(false, "!overloaded"), "X-Conversation-Id", "e"), 503,
                "overloaded");
        assertError(post("/v1/chat/completions", chat(true, "!overloaded"), "X-Conversation-Id", "e"), 503,
                "overloaded");
        assertError(get("/v1/chat/completions"), 405, "invalid");
        assertError(get("/nope"), 404, "not_found");
        assertError(post("/v1/chat/completions", chat(false, "hi").replace("\"model\"", "\"temperature\":-3,\"model\""),
                "X-Conversation-Id", "e"), 400, "invalid");
        assertEquals("{\"status\":\"ok\"}", get("/healthz").body());
    }

    /** An invalid generation parameter is named as the client spelled it, in the message and in {@code param}. */
    @Test
    void anInvalidParameterIsNamedAsTheClientSentIt() throws Exception {
        for (String[] c : new String[][] {{"\"max_tokens\":-3", "max_tokens"},
                {"\"max_completion_tokens\":100000", "max_completion_tokens"},
                {"\"max_tokens\":5,\"max_completion_tokens\":0", "max_completion_tokens"},
                {"\"top_p\":0", "top_p"}, {"\"temperature\":-3", "temperature"}, {"\"top_k\":-1", "top_k"},
                {"\"repetition_penalty\":0", "repetition_penalty"}, {"\"stop\":[\"\"]", "stop"}}) {
            HttpResponse<String> r = post("/v1/chat/completions",
                    chat(false, "hi").replace("\"model\"", c[0] + ",\"model\""), "X-Conversation-Id", "p");
            assertError(r, 400, "invalid");
            JsonNode e = JSON.readTree(r.body()).get("error");
            assertEquals(c[1], e.get("param").asText(), r.body());
            assertTrue(e.get("message").asText().startsWith(c[1]), r.body());
        }
    }

    @Test
    void methodNotAllowedNamesTheAllowedMethod() throws Exception {
        HttpResponse<String> r = get("/v1/chat/completions");
        assertError(r, 405, "invalid");
        assertEquals("POST", r.headers().firstValue("allow").orElse(null));
        HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(gw.http("/v1/chat/completions"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, preflight.statusCode());
        assertTrue(preflight.headers().firstValue("access-control-allow-origin").isEmpty(), "no CORS for pages");
        r = post("/healthz", "{}");
        assertEquals(405, r.statusCode());
        assertEquals("GET", r.headers().firstValue("allow").orElse(null));
    }

    @Test
    void backendErrorsAreCounted() throws Exception {
        assertError(post("/v1/chat/completions", chat(false, "!overloaded"), "X-Conversation-Id", "e"), 503,
                "overloaded");
        assertError(post("/v1/chat/completions", chat(true, "!overloaded"), "X-Conversation-Id", "e"), 503,
                "overloaded");
        assertError(post("/v1/chat/completions", chat(false, "!fail"), "X-Conversation-Id", "e"), 500, "internal");
        assertEquals(2.0, errors("overloaded"));
        assertEquals(1.0, errors("internal"));
        assertTrue(get("/metrics").body().contains("memlong_gateway_errors_total{code=\"overloaded\"} 2.0"));
    }

    private double errors(String code) {
        return gw.server.metrics().registry().get("memlong.gateway.errors").tag("code", code).counter().count();
    }

    @Test
    void anUnexpectedFailureIsAGeneric500() throws Exception {
        ChatBackend broken = new ChatBackend() {
            @Override
            public ChatConversation conversation(String tenant, String conversationId) {
                throw new IllegalStateException("secret internals");
            }

            @Override
            public List<String> models() {
                return List.of("memlong-echo");
            }

            @Override
            public BackendStats stats() {
                return BackendStats.EMPTY;
            }
        };
        GatewayServer server = GatewayServer.start(GatewaySettings.from(
                ConfigFactory.parseString("memlong.gateway { port = 0, io-threads = 1 }"), Map.of()), broken);
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                            URI.create(server.url() + "v1/chat/completions"))
                    .header("Content-Type", "application/json").header("X-Conversation-Id", "x")
                    .POST(HttpRequest.BodyPublishers.ofString(chat(false, "hi"))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertError(r, 500, "internal");
            assertFalse(r.body().contains("secret"), r.body());
        } finally {
            server.close();
        }
    }

    @Test
    void theWebPageIsServed() throws Exception {
        HttpResponse<String> page = get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<script src=\"app.js\">"));
        assertTrue(get("/app.js").headers().firstValue("content-type").orElse("").startsWith("text/javascript"));
        assertEquals(404, get("/../pom.xml").statusCode());
    }

    @Test
    void onlyAServedModelIsAnswered() throws Exception {
        // OpenAI and vLLM answer an unknown model with 404 model_not_found; never a reply under the asked-for name
        HttpResponse<String> r = post("/v1/chat/completions", chat(false, "hi").replace("memlong-echo", "gpt-4o"),
                "X-Conversation-Id", "models");
        assertError(r, 404, "model_not_found");
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertEquals("model", e.get("param").asText());
        assertTrue(e.get("message").asText().contains("gpt-4o") && e.get("message").asText().contains("memlong-echo"),
                r.body());
        assertError(post("/v1/chat/completions", chat(true, "hi").replace("memlong-echo", "gpt-4o"),
                "X-Conversation-Id", "models"), 404, "model_not_found");
        // the model is required, as in OpenAI's API: absent, null or empty is a 400 naming it
        String valid = chat(false, "hi");
        for (String body : List.of(valid.replace("\"model\":\"memlong-echo\",", ""),
                valid.replace("\"memlong-echo\"", "null"), valid.replace("\"memlong-echo\"", "\"\""))) {
            HttpResponse<String> missing = post("/v1/chat/completions", body, "X-Conversation-Id", "models");
            assertError(missing, 400, "invalid");
            assertEquals("model", JSON.readTree(missing.body()).get("error").get("param").asText(), missing.body());
        }
        assertEquals(0, gw.backend.turnsStarted(), "no refused request reached the backend");
        HttpResponse<String> ok = post("/v1/chat/completions", chat(false, "hi"), "X-Conversation-Id", "models");
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("memlong-echo", JSON.readTree(ok.body()).get("model").asText());
    }

    static void assertError(HttpResponse<String> r, int status, String code) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertEquals(code, e.get("code").asText(), r.body());
        assertTrue(e.hasNonNull("message") && e.hasNonNull("type"));
    }
}
