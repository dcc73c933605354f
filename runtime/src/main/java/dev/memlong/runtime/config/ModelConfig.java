package dev.memlong.runtime.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.runtime.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A decoder's {@code config.json}, read in both forms users have on disk: transformers v4 ({@code rope_theta},
 * {@code rope_scaling}, {@code torch_dtype}) and v5 ({@code rope_parameters}, {@code dtype}).
 *
 * <p>Attention is always full. A {@code sliding_window} (Mistral, Qwen2 with {@code use_sliding_window}) is kept
 * as {@link #slidingWindow()}: caches longer than it are refused, because only within the window do full and
 * sliding attention agree. The runtime's local window (2048 by default) is shorter than published windows.
 */
public record ModelConfig(
        Architecture architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        float rmsNormEps,
        RopeScaling rope,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        Integer bosTokenId,
        List<Integer> eosTokenIds,
        String storedDtype,
        int slidingWindow) {

    /** The model families this runtime implements. */
    public enum Architecture {
        LLAMA("LlamaForCausalLM"),
        MISTRAL("MistralForCausalLM"),
        QWEN2("Qwen2ForCausalLM");

        private final String hfName;

        Architecture(String hfName) {
            this.hfName = hfName;
        }

        public String hfName() {
            return hfName;
        }

        static Architecture fromHf(String name, Path file) {
            for (Architecture a : values()) {
                if (a.hfName.equals(name)) {
                    return a;
                }
            }
            throw new CheckpointException("unsupported architecture " + name + " in " + file
                    + "; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> SILU = Set.of("silu", "swish");

    /** Reads {@code config.json} from a model directory. */
    public static ModelConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CheckpointException("missing " + file);
        } catch (IOException e) {
            throw new CheckpointException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException("cannot parse " + file + ": not a JSON object");
        }
        return parse(root, file);
    }

    static ModelConfig parse(JsonNode c, Path file) {
        JsonNode archs = c.get("architectures");
        if (archs == null || !archs.isArray() || archs.isEmpty()) {
            throw new CheckpointException(file + " has no \"architectures\" entry");
        }
        Architecture arch = Architecture.fromHf(archs.get(0).asText(), file);
        String act = c.path("hidden_act").asText("silu");
        if (!SILU.contains(act)) {
            throw new CheckpointException("unsupported hidden_act " + act + " in " + file + "; only silu is supported");
        }
        int hidden = required(c, "hidden_size", file);
        int heads = required(c, "num_attention_heads", file);
        int kvHeads = c.hasNonNull("num_key_value_heads") ? c.get("num_key_value_heads").asInt() : heads;
        int headDim = c.hasNonNull("head_dim") ? c.get("head_dim").asInt() : hidden / heads;
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new CheckpointException("invalid head counts in " + file + ": num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new CheckpointException("invalid head_dim " + headDim + " in " + file + ": must be positive and even");
        }
        int maxPos = c.path("max_position_embeddings").asInt(2048);
        boolean qwen = arch == Architecture.QWEN2;
        boolean attnBias = c.path("attention_bias").asBoolean(false);
        return new ModelConfig(
                arch,
                required(c, "vocab_size", file),
                hidden,
                required(c, "intermediate_size", file),
                required(c, "num_hidden_layers", file),
                heads,
                kvHeads,
                headDim,
                (float) c.path("rms_norm_eps").asDouble(1e-6),
                RopeScaling.parse(c, file, headDim, maxPos),
                maxPos,
                c.path("tie_word_embeddings").asBoolean(false), // transformers' default for all three families
                qwen || attnBias,
                !qwen && attnBias,
                c.path("mlp_bias").asBoolean(false),
                c.hasNonNull("bos_token_id") ? c.get("bos_token_id").asInt() : null,
                intList(c.get("eos_token_id")),
                c.hasNonNull("dtype") ? c.get("dtype").asText() : c.path("torch_dtype").asText("float32"),
                slidingWindow(c, arch));
    }

    /** The attention window, or {@link Integer#MAX_VALUE} for full attention. */
    private static int slidingWindow(JsonNode c, Architecture arch) {
        boolean used = arch == Architecture.MISTRAL || (arch == Architecture.QWEN2 && c.path("use_sliding_window").asBoolean(false));
        if (!used || !c.hasNonNull("sliding_window") || c.get("sliding_window").asInt() <= 0) {
            return Integer.MAX_VALUE;
        }
        return c.get("sliding_window").asInt();
    }

    private static int required(JsonNode c, String key, Path file) {
        JsonNode n = c.get(key);
        if (n == null || !n.canConvertToInt() || n.asInt() <= 0) {
            throw new CheckpointException(file + ": \"" + key + "\" is missing or not a positive integer");
        }
        return n.asInt();
    }

    private static List<Integer> intList(JsonNode n) {
        List<Integer> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isArray()) {
            n.forEach(x -> out.add(x.asInt()));
        } else {
            out.add(n.asInt());
        }
        return List.copyOf(out);
    }

    /** Query heads per KV head (grouped-query attention). */
    public int groups() {
        return numHeads / numKvHeads;
    }
}
