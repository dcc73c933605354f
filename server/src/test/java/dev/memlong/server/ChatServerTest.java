package dev.memlong.server;

import dev.memlong.runtime.retriever.HashingRetriever;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.Conversation;
import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.MemLongRuntime;
import dev.memlong.actors.Reply;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.client.GatewayClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The main job's server end to end: the fixture model behind the gateway on a free port, a turn over WebSocket and
 * one over the OpenAI HTTP API, a stop and a start on the same data, and a third turn; every reply equals
 * (greedy) what the in-process runtime says for the same turns with the same stop and restart.
 */
class ChatServerTest {

    private static final HashingRetriever RETRIEVER = new HashingRetriever();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_NEW = 12;
    private static final String[] TURNS = {
        "My dog is called Rex and he likes the river in the morning.",
        "My cat is called Tom and she sleeps under the small window.",
        "What is my dog called?"
    };

    static Path model() {
        String prop = System.getProperty("memlong.fixtures");
        Path root = prop != null ? Paths.get(prop) : null;
        for (Path p = Paths.get("").toAbsolutePath(); root == null && p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("fixtures/hf-tiny-llama"))) {
                root = p.resolve("fixtures");
            }
        }
        return root.resolve("hf-tiny-llama");
    }

    /** The application config the main job would read, on the fixture model with a small MemLong window. */
    static Config config(Path data) {
        return ConfigFactory.parseString("""
                memlong.model.dir = "%s"
                %s { shutdown-timeout = 5s }
                memlong.memory { memory-layer = 2, retrieval-layers = [2, 3], chunk-size = 8, top-k = 2,
                                 local-window = 32, kv-dtype = fp32 }
                memlong.storage { path = "%s", fsync = false, min-free-disk-bytes = 0, block-cache-bytes = 4M,
                                  kv-cache-bytes = 4M, write-buffer-bytes = 1M }
                memlong.gateway { port = 0, io-threads = 2, anonymous-tenant = "default" }
                pekko.loglevel = WARNING
                """.formatted(model().toString().replace("\\", "/"), ChatServer.actorSettingsRoot(),
                data.resolve("rocksdb").toString().replace("\\", "/")));
    }

    static ChatServer start(Path data) {
        return ChatServer.builder(config(data)).retriever(RETRIEVER).environment(Map.of()).start();
    }

    @Test
    void turnsOverWebSocketAndHttpSurviveARestartAndEqualTheInProcessRuntime(@TempDir Path dir) throws Exception {
        List<String> served = new ArrayList<>();
        List<Integer> servedTokens = new ArrayList<>();
        try (ChatServer server = start(dir.resolve("served"))) {
            assertEquals("hf-tiny-llama", server.modelId());
            try (GatewayClient ws = GatewayClient.connect(server.webSocketUri(), null)) {
                assertEquals("default", ws.open("rex", false).join().tenant());
                List<String> deltas = new CopyOnWriteArrayList<>();
                ChatReply r = ws.send(TURNS[0], ChatParams.greedy(MAX_NEW), deltas::add).join();
                assertEquals(r.text(), String.join("", deltas));
                served.add(r.text());
                servedTokens.add(r.completionTokens());
            }
            JsonNode completion = openAi(server, "rex", List.of(
                    Map.of("role", "user", "content", TURNS[0]),
                    Map.of("role", "assistant", "content", served.get(0)),
                    Map.of("role", "user", "content", TURNS[1])));
            served.add(completion.at("/choices/0/message/content").asText());
            servedTokens.add(completion.at("/usage/completion_tokens").asInt());
            // the gateway counted both turns and every token they generated
            var registry = server.gateway().metrics().registry();
            assertEquals(servedTokens.stream().mapToInt(Integer::intValue).sum(),
                    registry.get("memlong.tokens.generated").counter().count());
            assertEquals(1.0, registry.get("memlong.gateway.requests").tag("protocol", "ws").tag("kind", "chat")
                    .counter().count());
            assertEquals(1.0, registry.get("memlong.gateway.requests").tag("protocol", "http").tag("kind", "chat")
                    .counter().count());
        }
        try (ChatServer server = start(dir.resolve("served"));
             GatewayClient ws = GatewayClient.connect(server.webSocketUri(), null)) {
            List<ChatTurn> history = ws.open("rex", true).join().history();
            assertEquals(List.of(TURNS[0], served.get(0), TURNS[1], served.get(1)),
                    history.stream().map(ChatTurn::text).toList());
            ChatReply r = ws.send(TURNS[2], ChatParams.greedy(MAX_NEW), d -> { }).join();
            served.add(r.text());
            servedTokens.add(r.completionTokens());
            assertFalse(ws.memory().join().isEmpty(), "the dialogue overflowed the 32-token window into memory");
        }

        List<String> reference = new ArrayList<>();
        List<Integer> referenceTokens = new ArrayList<>();
        Config inProcess = ChatServer.runtimeConfig(config(dir.resolve("in-process")));
        try (MemLongRuntime rt = MemLongRuntime.builder(inProcess).retriever(RETRIEVER).start()) {
            Conversation c = rt.conversation("default", "rex");
            for (int i = 0; i < 2; i++) {
                Reply r = c.send(TURNS[i], GenerationParams.greedy(MAX_NEW)).join();
                reference.add(r.text());
                referenceTokens.add(r.completionTokens());
            }
        }
        try (MemLongRuntime rt = MemLongRuntime.builder(inProcess).retriever(RETRIEVER).start()) {
            Reply r = rt.conversation("default", "rex").send(TURNS[2], GenerationParams.greedy(MAX_NEW)).join();
            reference.add(r.text());
            referenceTokens.add(r.completionTokens());
        }
        assertEquals(reference, served);
        assertEquals(referenceTokens, servedTokens);
        assertTrue(servedTokens.stream().allMatch(n -> n > 0), servedTokens.toString());
        System.out.println("served " + served + " tokens " + servedTokens);
    }

    @Test
    void statsAreServedOnMetricsWithoutBlocking(@TempDir Path dir) throws Exception {
        try (ChatServer server = start(dir)) {
            ChatReply reply;
            try (GatewayClient ws = GatewayClient.connect(server.webSocketUri(), null)) {
                ws.open("m", false).join();
                reply = ws.send("Hello there.", ChatParams.greedy(8), d -> { }).join();
            }
            assertTrue(server.runtime().stats().tokensGenerated() > 0);
            assertEquals(1, server.runtime().stats().turnsDone());
            String metrics = get(server, "/metrics");
            assertTrue(reply.completionTokens() > 0);
            assertEquals(reply.completionTokens(), sample(metrics, "memlong_tokens_generated_total"), metrics);
            assertEquals(1.0, sample(metrics, "memlong_gateway_requests_total{kind=\"chat\",protocol=\"ws\"}"), metrics);
            assertTrue(sample(metrics, "memlong_reply_tokens_per_second_count") >= 1.0, metrics);
            assertTrue(sample(metrics, "memlong_ttft_seconds_count") >= 1.0, metrics);
            assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(server.url() + "healthz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            JsonNode models = JSON.readTree(get(server, "/v1/models"));
            assertEquals("hf-tiny-llama", models.at("/data/0/id").asText());
        }
    }

    @Test
    void theConfiguredModelIdIsListedAndTheOnlyOneAnswered(@TempDir Path dir) throws Exception {
        Config config = ConfigFactory.parseString(ChatServer.actorSettingsRoot() + ".model-id = \"tiny-chat\"")
                .withFallback(config(dir));
        try (ChatServer server = ChatServer.builder(config).retriever(RETRIEVER).environment(Map.of()).start()) {
            // the id conversations are stored under, not the directory's name
            assertEquals("tiny-chat", server.runtime().settings().modelId(server.runtime().modelDir()));
            assertEquals("tiny-chat", server.modelId());
            JsonNode models = JSON.readTree(get(server, "/v1/models"));
            assertEquals(1, models.get("data").size(), models.toString());
            assertEquals("tiny-chat", models.at("/data/0/id").asText());
            assertEquals("tiny-chat", openAi(server, "named", List.of(Map.of("role", "user", "content", "Hi.")))
                    .get("model").asText());
            HttpResponse<String> other = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create(server.url() + "v1/chat/completions"))
                    .header("Content-Type", "application/json").header("X-Conversation-Id", "named")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("model", "hf-tiny-llama",
                            "messages", List.of(Map.of("role", "user", "content", "Hi.")))))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, other.statusCode(), other.body());
            assertEquals("model_not_found", JSON.readTree(other.body()).at("/error/code").asText(), other.body());
        }
    }

    /** The value of the Prometheus sample named exactly {@code series} (name and labels) in {@code scrape}. */
    private static double sample(String scrape, String series) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).strip());
            }
        }
        throw new AssertionError(series + " is not in the scrape");
    }

    private static String get(ChatServer server, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.url() + path.substring(1)))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static JsonNode openAi(ChatServer server, String conversation, List<Map<String, String>> messages)
            throws Exception {
        String body = JSON.writeValueAsString(Map.of("model", server.modelId(), "messages", messages,
                "temperature", 0, "max_tokens", MAX_NEW));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server.url() + "v1/chat/completions"))
                .header("Content-Type", "application/json").header("X-Conversation-Id", conversation)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }
}
