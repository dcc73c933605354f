package dev.memlong.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.client.GatewayClient;
import dev.memlong.server.ChatServer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code memlong chat} in both modes: remote against an in-process chat server, and in-process. */
class ChatCliTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static Path model() {
        return Paths.get(System.getProperty("memlong.fixtures", "../fixtures")).resolve("hf-tiny-llama");
    }

    static Config serverConfig(Path data) {
        return ConfigFactory.parseString("""
                memlong.model.dir = "%s"
                memlong.storage { path = "%s", fsync = false, min-free-disk-bytes = 0 }
                memlong.gateway { port = 0, io-threads = 2, anonymous-tenant = "default" }
                pekko.loglevel = WARNING
                """.formatted(model().toString().replace("\\", "/"),
                data.resolve("rocksdb").toString().replace("\\", "/")));
    }

    static synchronized CliTest.Outcome runWithStdin(String stdin, String... args) {
        InputStream in = System.in;
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            return CliTest.run(args);
        } finally {
            System.setIn(in);
        }
    }

    @Test
    void remoteChatStreamsRepliesAndJsonlPrintsOneObjectPerReply(@TempDir Path dir) throws Exception {
        try (ChatServer server = ChatServer.builder(serverConfig(dir)).environment(Map.of()).start()) {
            String url = server.webSocketUri().toString();
            CliTest.Outcome jsonl = runWithStdin("Hello there.\n\nMy dog is called Rex.\n", "chat", "--url", url,
                    "--conversation", "cli", "--jsonl", "--max-new-tokens", "8");
            assertEquals(0, jsonl.exitCode(), jsonl.stderr());
            List<JsonNode> replies = new ArrayList<>();
            for (String line : jsonl.stdout().strip().split("\n")) {
                replies.add(JSON.readTree(line));
            }
            assertEquals(2, replies.size(), jsonl.stdout());
            for (JsonNode r : replies) {
                int tokens = r.get("completion_tokens").asInt();
                assertTrue(tokens >= 1 && tokens <= 8, r.toString());
                assertTrue(r.has("retrieved") && r.has("memory_tokens") && r.has("window_tokens"), r.toString());
            }
            // streamed mode, one line in -> the reply out, no prompt when stdin is not a terminal
            CliTest.Outcome streamed = runWithStdin("What is my dog called?\n", "chat", "--url", url,
                    "--conversation", "cli", "--max-new-tokens", "8");
            assertEquals(0, streamed.exitCode(), streamed.stderr());
            try (GatewayClient c = GatewayClient.connect(server.webSocketUri(), null)) {
                List<String> log = c.open("cli", true).join().history().stream().map(ChatTurn::text).toList();
                assertEquals(List.of("Hello there.", replies.get(0).get("reply").asText(), "My dog is called Rex.",
                        replies.get(1).get("reply").asText(), "What is my dog called?",
                        streamed.stdout().substring(0, streamed.stdout().length() - 1)), log);
            }
            assertTrue(streamed.stderr().isEmpty() || !streamed.stderr().contains("> "), streamed.stderr());
        }
    }

    @Test
    void badModeCombinationsAndAnUnreachableServerAreOneLineErrors(@TempDir Path dir) {
        CliTest.Outcome both = runWithStdin("", "chat", "--url", "ws://127.0.0.1:1/ws", "--model", "m",
                "--conversation", "x");
        assertEquals(1, both.exitCode());
        assertTrue(both.stderr().startsWith("error: --url (remote) and --model"), both.stderr());
        CliTest.Outcome neither = runWithStdin("", "chat", "--conversation", "x");
        assertTrue(neither.stderr().startsWith("error: give --url"), neither.stderr());
        CliTest.Outcome down = runWithStdin("hi\n", "chat", "--url", "ws://127.0.0.1:1/ws", "--conversation", "x");
        assertEquals(1, down.exitCode());
        assertTrue(down.stderr().startsWith("error: cannot connect"), down.stderr());
        CliTest.Outcome http = runWithStdin("", "chat", "--url", "http://127.0.0.1:1/", "--conversation", "x");
        assertTrue(http.stderr().contains("ws://HOST:PORT/ws"), http.stderr());
    }

    @Test
    void inProcessChatStoresWhereHistoryReadsIt(@TempDir Path dir) throws Exception {
        CliTest.Outcome r = runWithStdin("Hello there.\n", "chat", "--model", model().toString(), "--data",
                dir.toString(), "--conversation", "local", "--jsonl", "--max-new-tokens", "6");
        assertEquals(0, r.exitCode(), r.stderr());
        String reply = JSON.readTree(r.stdout().strip()).get("reply").asText();
        CliTest.Outcome history = CliTest.run("history", "--data", dir.toString(), "--conversation", "local",
                "--json");
        assertEquals(0, history.exitCode(), history.stderr());
        List<String> texts = new ArrayList<>();
        history.json().get("turns").forEach(t -> texts.add(t.get("text").asText()));
        assertEquals(List.of("Hello there.", reply), texts);
    }
}
