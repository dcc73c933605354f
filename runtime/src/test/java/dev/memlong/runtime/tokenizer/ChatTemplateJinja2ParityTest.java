package dev.memlong.runtime.tokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Real-world chat templates (Llama 2, Llama 3, Mistral, ChatML/Qwen2, Zephyr) and single-behaviour snippets render
 * exactly as Python jinja2 renders them under transformers' settings. Expected outputs are in
 * {@code fixtures/chat-templates/expected.json}, made by {@code make_expected.py} beside it.
 */
class ChatTemplateJinja2ParityTest {

    private static final Map<String, String> SPECIAL = Map.of("bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>");
    private static final JsonNode EXPECTED =
            TokenizerFixtures.readJson(TokenizerFixtures.dir().resolve("chat-templates/expected.json"));

    @TestFactory
    Stream<DynamicTest> realTemplatesRenderAsJinja2() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode expected : EXPECTED.get("expected")) {
            String name = expected.get("template").asText();
            String convo = expected.get("convo").asText();
            boolean prompt = expected.get("agp").asBoolean();
            tests.add(DynamicTest.dynamicTest(name + " / " + convo + " / add_generation_prompt=" + prompt, () -> {
                ChatTemplate template = ChatTemplate.of(EXPECTED.get("templates").get(name).asText(), name, SPECIAL);
                List<Map<String, Object>> messages = messages(EXPECTED.get("convos").get(convo));
                if (expected.has("error")) {
                    ChatTemplateException e = assertThrows(ChatTemplateException.class,
                            () -> template.render(messages, prompt, Map.of()));
                    assertEquals(expected.get("error").asText(), e.raisedByTemplate().orElseThrow());
                } else {
                    assertEquals(expected.get("rendered").asText(), template.render(messages, prompt, Map.of()));
                }
            }));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> snippetsRenderAsJinja2() {
        List<Map<String, Object>> messages = messages(EXPECTED.get("snippet_messages"));
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode snippet : EXPECTED.get("snippets")) {
            String source = snippet.get("template").asText();
            tests.add(DynamicTest.dynamicTest(source, () -> assertEquals(snippet.get("rendered").asText(),
                    ChatTemplate.of(source, "snippet", SPECIAL).render(messages, false, Map.of()))));
        }
        return tests.stream();
    }

    private static List<Map<String, Object>> messages(JsonNode json) {
        return TokenizerFixtures.JSON.convertValue(json, new TypeReference<List<Map<String, Object>>>() {});
    }
}
