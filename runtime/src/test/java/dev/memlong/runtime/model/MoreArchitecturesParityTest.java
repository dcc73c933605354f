package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Parity with Hugging Face transformers on the architectures and checkpoint formats that hf-tiny-llama does not
 * cover (see fixtures/README.md): Qwen2 (q/k/v biases, tied embeddings, v5 config), Mistral (explicit head_dim
 * unlike hidden/heads, byte-fallback Metaspace tokenizer), Llama 3 (llama3 rope scaling over prompts longer than
 * original_max_position_embeddings, BF16 shards, v4 config) and a Llama saved in F16. The references were computed
 * by transformers from the saved half-precision weights widened to float32, which is what the runtime does too,
 * so the same 1e-4 tolerance holds.
 */
class MoreArchitecturesParityTest {

    private static final double TOLERANCE = 1e-4;
    private static final Map<String, LlamaModel> MODELS = new HashMap<>();
    private static final Map<String, TextTokenizer> TOKENIZERS = new HashMap<>();

    private static Path dir(String name) {
        return Fixtures.root().resolve(name);
    }

    private static synchronized LlamaModel model(String name) {
        return MODELS.computeIfAbsent(name, n -> LlamaModel.load(dir(n)));
    }

    private static synchronized TextTokenizer tokenizer(String name) {
        return TOKENIZERS.computeIfAbsent(name, n -> Tokenizers.open(dir(n)));
    }

    @AfterAll
    static void closeAll() {
        MODELS.values().forEach(LlamaModel::close);
        TOKENIZERS.values().forEach(TextTokenizer::close);
    }

    private static List<JsonNode> cases(String name) {
        List<JsonNode> out = new ArrayList<>();
        Fixtures.reference(dir(name)).get("cases").forEach(out::add);
        return out;
    }

    private static String label(String name, JsonNode c) {
        return name + " case " + PythonRepr.of(c.get("text").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"hf-tiny-qwen2", "hf-tiny-mistral", "hf-tiny-llama3", "hf-tiny-llama-f16"})
    void tokenIdsMatchTransformers(String name) {
        TextTokenizer tok = tokenizer(name);
        List<Executable> checks = new ArrayList<>();
        for (JsonNode c : cases(name)) {
            checks.add(() -> assertArrayEquals(Fixtures.ints(c.get("ids")), tok.encode(c.get("text").asText(), true),
                    label(name, c)));
        }
        assertAll(checks);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hf-tiny-qwen2", "hf-tiny-mistral", "hf-tiny-llama3", "hf-tiny-llama-f16"})
    void decodedTextMatchesTransformers(String name) {
        TextTokenizer tok = tokenizer(name);
        List<Executable> checks = new ArrayList<>();
        for (JsonNode c : cases(name)) {
            checks.add(() -> assertEquals(c.get("decoded").asText(), tok.decode(Fixtures.ints(c.get("ids")), true),
                    label(name, c)));
        }
        assertAll(checks);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hf-tiny-qwen2", "hf-tiny-mistral", "hf-tiny-llama3", "hf-tiny-llama-f16"})
    void chatTemplateRendersAndEncodesAsTransformers(String name) {
        JsonNode chats = Fixtures.reference(dir(name)).get("chat");
        assertFalse(chats.isEmpty(), name + " has a chat template, so its reference has a chat");
        ChatTemplate template = ChatTemplate.open(dir(name));
        for (JsonNode chat : chats) {
            List<ChatMessage> messages = new ArrayList<>();
            chat.get("messages").forEach(m -> messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));
            String rendered = template.render(messages, true);
            assertEquals(chat.get("rendered").asText(), rendered, name);
            assertArrayEquals(Fixtures.ints(chat.get("ids")), tokenizer(name).encode(rendered, false), name);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"hf-tiny-qwen2", "hf-tiny-mistral", "hf-tiny-llama3", "hf-tiny-llama-f16"})
    void logitsAtEveryPositionMatchTransformers(String name) {
        LlamaModel m = model(name);
        List<Executable> checks = new ArrayList<>();
        for (JsonNode c : cases(name)) {
            checks.add(() -> {
                float[][] ours = m.forwardLogits(Fixtures.ints(c.get("ids")));
                double diff = Fixtures.maxAbsDiff(ours, Fixtures.matrix(c.get("logits")));
                assertTrue(diff < TOLERANCE, label(name, c) + ": max |diff| " + diff);
            });
        }
        assertAll(checks);
    }

    @ParameterizedTest
    @ValueSource(strings = {"hf-tiny-qwen2", "hf-tiny-mistral", "hf-tiny-llama3", "hf-tiny-llama-f16"})
    void greedyContinuationWithKvCacheMatchesTransformers(String name) {
        LlamaModel m = model(name);
        List<Executable> checks = new ArrayList<>();
        for (JsonNode c : cases(name)) {
            checks.add(() -> {
                int[] ids = Fixtures.ints(c.get("ids"));
                int[] expected = Fixtures.ints(c.get("greedy"));
                assertEquals(24, expected.length);
                int[] got = new int[expected.length];
                try (KvCachePool cache = m.newCache(1, ids.length + expected.length)) {
                    float[] logits = m.forward(cache, List.of(new SequenceStep(0, ids)), false)[0][0];
                    for (int i = 0; i < expected.length; i++) {
                        got[i] = HfParityTest.argmax(logits);
                        logits = m.forward(cache, List.of(new SequenceStep(0, new int[] {got[i]})), false)[0][0];
                    }
                }
                assertArrayEquals(expected, got, "greedy continuation of " + label(name, c));
            });
        }
        assertAll(checks);
    }

    /** The rotary inverse frequencies the runtime derives from config.json equal the ones transformers used. */
    @ParameterizedTest
    @ValueSource(strings = {"hf-tiny-qwen2", "hf-tiny-mistral", "hf-tiny-llama3", "hf-tiny-llama-f16"})
    void rotaryFrequenciesMatchTransformers(String name) {
        float[] ours = ModelConfig.load(dir(name)).rope().inverseFrequencies();
        JsonNode theirs = Fixtures.reference(dir(name)).get("inv_freq");
        assertEquals(theirs.size(), ours.length, name);
        for (int i = 0; i < ours.length; i++) {
            double want = theirs.get(i).asDouble();
            assertEquals(want, ours[i], Math.abs(want) * 1e-6, name + " inv_freq[" + i + "]");
        }
    }

    /** Each fixture really exercises what it is there for (so a regenerated fixture cannot silently lose it). */
    @Test
    void fixturesHaveTheShapesTheyAreThereFor() {
        ModelConfig qwen = ModelConfig.load(dir("hf-tiny-qwen2"));
        assertEquals(ModelConfig.Architecture.QWEN2, qwen.architecture());
        assertTrue(qwen.qkvBias() && !qwen.outputBias() && qwen.tieWordEmbeddings());
        assertTrue(qwen.numHeads() > qwen.numKvHeads());
        assertTrue(Fixtures.reference(dir("hf-tiny-qwen2")).get("saved_config").has("rope_parameters"));

        ModelConfig mistral = ModelConfig.load(dir("hf-tiny-mistral"));
        assertEquals(ModelConfig.Architecture.MISTRAL, mistral.architecture());
        assertEquals(32, mistral.headDim());
        assertTrue(mistral.headDim() != mistral.hiddenSize() / mistral.numHeads());

        ModelConfig llama3 = ModelConfig.load(dir("hf-tiny-llama3"));
        assertEquals("llama3", llama3.rope().type());
        assertEquals(500000.0, llama3.rope().theta());
        assertEquals(List.of(1, 4), llama3.eosTokenIds());
        assertEquals("bfloat16", llama3.storedDtype());
        assertTrue(Files.exists(dir("hf-tiny-llama3").resolve("model.safetensors.index.json")));
        int longest = 0;
        for (JsonNode c : cases("hf-tiny-llama3")) {
            longest = Math.max(longest, c.get("ids").size());
        }
        assertTrue(longest > llama3.rope().originalMaxPositions(), "a prompt longer than the original context");

        assertEquals("float16", ModelConfig.load(dir("hf-tiny-llama-f16")).storedDtype());
        assertNotNull(ChatTemplate.find(dir("hf-tiny-llama-f16")).orElse(null));
    }

    /** Python's repr of a string, for readable failure messages of texts with tabs and newlines. */
    private static final class PythonRepr {
        static String of(String s) {
            return "'" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") + "'";
        }
    }
}
