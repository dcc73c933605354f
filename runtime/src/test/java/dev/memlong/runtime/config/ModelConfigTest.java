package dev.memlong.runtime.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** config.json in the transformers v4 and v5 layouts, and the errors bad configs give. */
class ModelConfigTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** A v4 Llama config as most published checkpoints have it. */
    private static ObjectNode v4Llama() {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", 600);
        c.put("hidden_size", 64);
        c.put("intermediate_size", 176);
        c.put("num_hidden_layers", 4);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("max_position_embeddings", 2048);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.putNull("rope_scaling");
        c.put("hidden_act", "silu");
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", "bfloat16");
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        return c;
    }

    /** The same model as transformers v5 writes it: rope_parameters and dtype. */
    private static ObjectNode v5Llama() {
        ObjectNode c = v4Llama();
        c.remove("rope_theta");
        c.remove("rope_scaling");
        c.remove("torch_dtype");
        c.put("dtype", "bfloat16");
        c.putObject("rope_parameters").put("rope_theta", 10000.0).put("rope_type", "default");
        return c;
    }

    private static ObjectNode llama3Scaling(ObjectNode into) {
        return into.put("factor", 8.0).put("low_freq_factor", 1.0).put("high_freq_factor", 4.0)
                .put("original_max_position_embeddings", 8192).put("rope_type", "llama3");
    }

    private ModelConfig load(ObjectNode config) throws IOException {
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config));
        return ModelConfig.load(dir);
    }

    private CheckpointException loadFails(ObjectNode config) throws IOException {
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(config));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()),
                "the message names the file: " + e.getMessage());
        return e;
    }

    private CheckpointException loadFails(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode c = v4Llama();
        edit.accept(c);
        return loadFails(c);
    }

    // ---------------------------------------------------------------- v4 and v5 layouts

    @Test
    void v4AndV5LayoutsOfOneModelParseAlike() throws IOException {
        ModelConfig v4 = load(v4Llama());
        ModelConfig v5 = load(v5Llama());
        assertEquals(v4, v5);
        assertEquals(ModelConfig.Architecture.LLAMA, v4.architecture());
        assertEquals("bfloat16", v4.storedDtype());
        assertEquals(new RopeScaling("default", 10000.0, 1, 1, 1, 2048, 16), v4.rope());
        assertEquals(16, v4.headDim());
        assertEquals(2, v4.groups());
        assertEquals(1e-5f, v4.rmsNormEps());
        assertEquals(1, v4.bosTokenId());
        assertEquals(List.of(2), v4.eosTokenIds());
        assertFalse(v4.tieWordEmbeddings() || v4.qkvBias() || v4.outputBias() || v4.mlpBias());
    }

    @Test
    void llama3ScalingParsesAlikeInV4AndV5() throws IOException {
        ObjectNode v4 = v4Llama().put("rope_theta", 500000.0).put("max_position_embeddings", 131072);
        llama3Scaling(v4.putObject("rope_scaling"));
        ObjectNode v5 = v5Llama().put("max_position_embeddings", 131072);
        llama3Scaling(v5.putObject("rope_parameters")).put("rope_theta", 500000.0);
        ModelConfig a = load(v4);
        ModelConfig b = load(v5);
        assertEquals(new RopeScaling("llama3", 500000.0, 8.0, 1.0, 4.0, 8192, 16), a.rope());
        assertEquals(a, b);
    }

    /** The fixtures transformers wrote: hf-tiny-llama3 in the v4 layout, and its config as v5 first saved it. */
    @Test
    void llama3FixtureParsesAlikeInBothLayouts() throws IOException {
        Path fixture = Fixtures.root().resolve("hf-tiny-llama3");
        ModelConfig v4 = ModelConfig.load(fixture);
        ModelConfig v5 = load((ObjectNode) Fixtures.reference(fixture).get("saved_config"));
        assertTrue(Fixtures.reference(fixture).get("saved_config").has("rope_parameters"));
        assertEquals(v4, v5);
        assertEquals(new RopeScaling("llama3", 500000.0, 8.0, 1.0, 4.0, 64, 16), v4.rope());
    }

    @Test
    void llama3InverseFrequenciesFollowTheThreeBands() {
        // head_dim 16, theta 500000, original context 64: wavelengths 6.3 (high band, kept), 32 (medium, smoothed),
        // 167 and up (low band, divided by the factor)
        RopeScaling plain = new RopeScaling("default", 500000.0, 1, 1, 1, 64, 16);
        RopeScaling scaled = new RopeScaling("llama3", 500000.0, 8.0, 1.0, 4.0, 64, 16);
        float[] p = plain.inverseFrequencies();
        float[] s = scaled.inverseFrequencies();
        assertEquals(p[0], s[0]);
        double wavelen = 2 * Math.PI / p[1];
        double smooth = (64 / wavelen - 1.0) / (4.0 - 1.0);
        assertEquals((1 - smooth) * p[1] / 8 + smooth * p[1], s[1], 1e-7);
        for (int i = 2; i < p.length; i++) {
            assertEquals(p[i] / 8, s[i], p[i] * 1e-6);
        }
    }

    @Test
    void linearScalingAndTheOldTypeKey() throws IOException {
        ObjectNode c = v4Llama();
        c.putObject("rope_scaling").put("type", "linear").put("factor", 2.0);
        RopeScaling rope = load(c).rope();
        assertEquals("linear", rope.type());
        float[] plain = new RopeScaling("default", 10000.0, 1, 1, 1, 2048, 16).inverseFrequencies();
        float[] scaled = rope.inverseFrequencies();
        for (int i = 0; i < plain.length; i++) {
            assertEquals(plain[i] / 2, scaled[i], plain[i] * 1e-6);
        }
    }

    @Test
    void v5DefaultRopeWithoutThetaFallsBackToTheTopLevelOrTheDefault() throws IOException {
        ObjectNode c = v5Llama();
        ((ObjectNode) c.get("rope_parameters")).remove("rope_theta");
        assertEquals(10000.0, load(c).rope().theta());
    }

    @Test
    void headDimIsGivenOrDerived() throws IOException {
        assertEquals(16, load(v4Llama()).headDim());
        assertEquals(32, load(v4Llama().put("head_dim", 32)).headDim());
        assertEquals(16, load(v4Llama().putNull("head_dim")).headDim());
        assertEquals(4, load(v4Llama().putNull("num_key_value_heads")).numKvHeads());
    }

    @Test
    void qwen2HasQkvBiasesButNoOutputBias() throws IOException {
        ObjectNode c = v5Llama();
        c.putArray("architectures").add("Qwen2ForCausalLM");
        c.put("model_type", "qwen2").put("tie_word_embeddings", true).put("use_sliding_window", false);
        ModelConfig q = load(c);
        assertEquals(ModelConfig.Architecture.QWEN2, q.architecture());
        assertTrue(q.qkvBias() && q.tieWordEmbeddings());
        assertFalse(q.outputBias() || q.mlpBias());
    }

    @Test
    void llamaAttentionBiasCoversQkvAndOutput() throws IOException {
        ModelConfig c = load(v4Llama().put("attention_bias", true).put("mlp_bias", true));
        assertTrue(c.qkvBias() && c.outputBias() && c.mlpBias());
    }

    @Test
    void mistralWithNullSlidingWindowAndAListOfEosIds() throws IOException {
        ObjectNode c = v5Llama().put("head_dim", 32).putNull("sliding_window");
        c.putArray("architectures").add("MistralForCausalLM");
        c.putArray("eos_token_id").add(2).add(7);
        ModelConfig m = load(c);
        assertEquals(ModelConfig.Architecture.MISTRAL, m.architecture());
        assertEquals(32, m.headDim());
        assertEquals(List.of(2, 7), m.eosTokenIds());
        assertNull(load(v4Llama().putNull("bos_token_id")).bosTokenId());
    }

    @Test
    void theFixturesParse() {
        for (String name : List.of("hf-tiny-llama", "hf-tiny-qwen2", "hf-tiny-mistral", "hf-tiny-llama3",
                "hf-tiny-llama-f16")) {
            ModelConfig c = ModelConfig.load(Fixtures.root().resolve(name));
            assertEquals(64, c.hiddenSize(), name);
        }
    }

    // ---------------------------------------------------------------- bad configs

    @Test
    void unsupportedArchitectureIsNamedWithTheFile() throws IOException {
        CheckpointException e = loadFails(c -> c.putArray("architectures").add("GPT2LMHeadModel"));
        assertTrue(e.getMessage().contains("GPT2LMHeadModel"), e.getMessage());
    }

    @Test
    void noArchitectures() throws IOException {
        loadFails(c -> c.remove("architectures"));
        loadFails(c -> c.putArray("architectures"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"})
    void aMissingRequiredKeyIsNamedWithTheFile(String key) throws IOException {
        CheckpointException e = loadFails(c -> c.remove(key));
        assertTrue(e.getMessage().contains(key), e.getMessage());
        e = loadFails(c -> c.put(key, "64"));
        assertTrue(e.getMessage().contains(key), e.getMessage());
        e = loadFails(c -> c.put(key, 0));
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }

    @Test
    void missingOrMalformedFile() throws IOException {
        CheckpointException missing = assertThrows(CheckpointException.class, () -> ModelConfig.load(dir));
        assertTrue(missing.getMessage().contains(dir.resolve("config.json").toString()), missing.getMessage());
        for (String bad : new String[] {"{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 6", "[1, 2]", ""}) {
            Files.writeString(dir.resolve("config.json"), bad);
            CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.load(dir));
            assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), e.getMessage());
        }
    }

    @Test
    void inconsistentHeads() throws IOException {
        loadFails(c -> c.put("num_key_value_heads", 3));
        loadFails(c -> c.put("num_key_value_heads", 0));
        loadFails(c -> c.put("head_dim", 15));
    }

    @Test
    void unsupportedActivation() throws IOException {
        assertTrue(loadFails(c -> c.put("hidden_act", "gelu")).getMessage().contains("gelu"));
    }

    @Test
    void unsupportedOrIncompleteRope() throws IOException {
        assertTrue(loadFails(c -> c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0))
                .getMessage().contains("yarn"));
        loadFails(c -> c.putObject("rope_scaling").put("rope_type", "linear"));
        loadFails(c -> c.put("partial_rotary_factor", 0.5));
        for (String key : new String[] {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
            CheckpointException e = loadFails(c -> llama3Scaling(c.putObject("rope_scaling")).remove(key));
            assertTrue(e.getMessage().contains(key), e.getMessage());
        }
        loadFails(c -> llama3Scaling(c.putObject("rope_scaling")).put("high_freq_factor", 1.0));
        // v5 layouts
        ObjectNode partial = v5Llama();
        ((ObjectNode) partial.get("rope_parameters")).put("partial_rotary_factor", 0.5);
        loadFails(partial);
        ObjectNode perLayerType = v5Llama();
        perLayerType.putObject("rope_parameters").putObject("full_attention").put("rope_theta", 1e6).put("rope_type", "default");
        loadFails(perLayerType);
    }

    @Test
    void inverseFrequenciesOfTheDefaultRope() {
        float[] inv = new RopeScaling("default", 10000.0, 1, 1, 1, 2048, 8).inverseFrequencies();
        assertArrayEquals(new float[] {1f, 0.1f, 0.01f, 0.001f}, inv, 1e-9f);
    }
}
