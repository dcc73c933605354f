package dev.memlong.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.generate.Generation;
import dev.memlong.runtime.generate.SamplingParams;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.retriever.HashingRetriever;
import dev.memlong.storage.Role;
import dev.memlong.storage.Turn;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenAI system messages and sampling fields on the real runtime. A first turn's reply is checked against the
 * fixture model run directly (no actors, no gateway) on the prompt written out by hand in the fixture template's
 * format, so the system message provably shaped the prompt; later turns are checked through what they fed
 * ({@code usage.prompt_tokens}, against the template text written out by hand) and what the log stored.
 */
class SystemPromptTest {

    private static final HashingRetriever RETRIEVER = new HashingRetriever();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int EOS = 6; // the fixture's eos_token_id
    private static ModelBundle bundle;

    @TempDir
    static Path dir;

    /** A window large enough that nothing reaches memory: the runtime is the plain MemLong model. */
    private static Config config(Path data) {
        return ConfigFactory.parseString("memlong.memory { local-window = 256, chunk-size = 16 }")
                .withFallback(ChatServerTest.config(data));
    }

    @BeforeAll
    static void loadModel() {
        bundle = ModelBundle.open(ChatServerTest.model());
    }

    @AfterAll
    static void closeModel() {
        bundle.close();
    }

    /** What the fixture model says after {@code prompt} alone, on a MemLong sequence with an empty bank. */
    private static Generation reference(String prompt, SamplingParams params) {
        Config c = ChatServer.runtimeConfig(config(dir.resolve("unused"))).resolve();
        MemorySettings memory = MemorySettings.fromConfig(c, bundle.model().config().numLayers(),
                bundle.model().config().maxPositionEmbeddings());
        MemLongEngine engine = new MemLongEngine(bundle, RETRIEVER, memory);
        try (KvCachePool cache = engine.newCache(1);
             MemLongSequence sequence = engine.newSequence(cache, 0, engine.newInMemoryBank())) {
            return bundle.generator().generate(MemLongEngine.stepper(sequence),
                    bundle.tokenizer().encode(prompt, false), params, (id, text) -> { });
        }
    }

    private static int tokens(String text) {
        return bundle.tokenizer().encode(text, false).length;
    }

    @Test
    void aSystemMessageShapesThePromptAndIsTheConversationsUntilChanged() throws Exception {
        try (ChatServer server = ChatServer.builder(config(dir.resolve("a"))).retriever(RETRIEVER)
                .environment(Map.of()).start()) {
            String pirate = "You are a pirate.";
            JsonNode first = complete(server, "p", Map.of("temperature", 0, "max_tokens", 8), List.of(
                    Map.of("role", "system", "content", pirate), Map.of("role", "user", "content", "Hello")));
            String firstPrompt = "<|system|>\n" + pirate + "<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\n";
            Generation expected = reference(firstPrompt, SamplingParams.greedy(8).withStopTokens(List.of(EOS)));
            String firstText = first.at("/choices/0/message/content").asText();
            assertEquals(expected.text(), firstText);
            assertEquals(tokens(firstPrompt), first.at("/usage/prompt_tokens").asInt());
            assertEquals(expected.ids().length, first.at("/usage/completion_tokens").asInt());
            assertEquals(first.at("/usage/prompt_tokens").asInt() + first.at("/usage/completion_tokens").asInt(),
                    first.at("/usage/total_tokens").asInt());

            // The client resends everything, system message included: only the template's closing of the previous
            // reply and the new user message are fed.
            JsonNode second = complete(server, "p", Map.of("temperature", 0, "max_tokens", 8), List.of(
                    Map.of("role", "system", "content", pirate), Map.of("role", "user", "content", "Hello"),
                    Map.of("role", "assistant", "content", firstText), Map.of("role", "user", "content", "Ahoy")));
            int unfed = "length".equals(first.at("/choices/0/finish_reason").asText()) ? 1 : 0;
            String secondFed = "<|end|>\n<|user|>\nAhoy<|end|>\n<|assistant|>\n";
            int secondPrompt = second.at("/usage/prompt_tokens").asInt();
            assertEquals(tokens(secondFed) + unfed, secondPrompt, "the closing and the user message, no system message");

            // A different system prompt is fed before the user message and stored.
            String secondText = second.at("/choices/0/message/content").asText();
            JsonNode third = complete(server, "p", Map.of("temperature", 0, "max_tokens", 8), List.of(
                    Map.of("role", "system", "content", "Speak plainly."), Map.of("role", "user", "content", "Hello"),
                    Map.of("role", "assistant", "content", firstText), Map.of("role", "user", "content", "Ahoy"),
                    Map.of("role", "assistant", "content", secondText), Map.of("role", "user", "content", "Bye")));
            unfed = "length".equals(second.at("/choices/0/finish_reason").asText()) ? 1 : 0;
            String thirdFed = "<|end|>\n<|system|>\nSpeak plainly.<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n";
            int thirdPrompt = third.at("/usage/prompt_tokens").asInt();
            assertEquals(tokens(thirdFed) + unfed, thirdPrompt, "the closing, the new system message, the user message");

            List<Turn> log = server.runtime().conversation("default", "p").history().toCompletableFuture().get();
            assertEquals(List.of(Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT, Role.SYSTEM,
                    Role.USER, Role.ASSISTANT), log.stream().map(Turn::role).toList());
            assertEquals(List.of(pirate, "Speak plainly."),
                    log.stream().filter(t -> t.role() == Role.SYSTEM).map(Turn::text).toList());
        }
    }

    @Test
    void samplingFieldsAreHonoured(@TempDir Path data) throws Exception {
        try (ChatServer server = ChatServer.builder(config(data)).retriever(RETRIEVER).environment(Map.of()).start()) {
            String prompt = "<|user|>\nTell me something<|end|>\n<|assistant|>\n";
            List<Map<String, String>> ask = List.of(Map.of("role", "user", "content", "Tell me something"));
            SamplingParams sampled = new SamplingParams(12, 0.9, 0, 0.8, 1.0, 7, List.of(EOS), List.of());
            JsonNode s = complete(server, "s", Map.of("temperature", 0.9, "top_p", 0.8, "seed", 7,
                    "max_completion_tokens", 12), ask);
            assertEquals(reference(prompt, sampled).text(), s.at("/choices/0/message/content").asText(),
                    "temperature, top_p and seed as the sampler takes them");

            Generation greedy = reference(prompt, SamplingParams.greedy(12).withStopTokens(List.of(EOS)));
            assertTrue(greedy.text().length() >= 4, "a reply to cut: " + greedy.text());
            String stop = greedy.text().substring(2, 4);
            JsonNode cut = complete(server, "g", Map.of("temperature", 0, "max_tokens", 12, "stop", List.of(stop)),
                    ask);
            assertEquals(greedy.text().substring(0, greedy.text().indexOf(stop)),
                    cut.at("/choices/0/message/content").asText(), "the reply ends before the stop string");
            assertEquals("stop", cut.at("/choices/0/finish_reason").asText());

            JsonNode shortReply = complete(server, "m", Map.of("temperature", 0, "max_completion_tokens", 2), ask);
            assertEquals(2, shortReply.at("/usage/completion_tokens").asInt());
        }
    }

    private static JsonNode complete(ChatServer server, String conversation, Map<String, Object> fields,
                                     List<Map<String, String>> messages) throws Exception {
        Map<String, Object> body = new java.util.HashMap<>(fields);
        body.put("model", server.modelId());
        body.put("messages", messages);
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(server.url() + "v1/chat/completions"))
                .header("Content-Type", "application/json").header("X-Conversation-Id", conversation)
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }
}
