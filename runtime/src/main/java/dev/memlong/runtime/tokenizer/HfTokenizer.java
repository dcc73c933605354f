package dev.memlong.runtime.tokenizer;

import ai.djl.engine.EngineException;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.runtime.checkpoint.CheckpointException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A model directory's {@code tokenizer.json} run by the Hugging Face tokenizers library (Rust, through DJL), set
 * up as transformers' {@code PreTrainedTokenizerFast} sets it up: no truncation, no padding, special tokens and
 * BOS/EOS handling from {@code tokenizer_config.json}, extra EOS ids from {@code generation_config.json} and
 * {@code config.json}.
 *
 * <p>Thread-safe: {@link #encode} and {@link #decode} may run concurrently (the Rust tokenizer is immutable once
 * built); {@link #close} must not race with them.
 */
public final class HfTokenizer implements TextTokenizer {

    static final String FILE = "tokenizer.json";
    private static final String NATIVE_ARTIFACT = "ai.djl.huggingface:tokenizers";
    /** DJL would otherwise truncate to 512 tokens when the file's truncation is unset: switch it off explicitly. */
    private static final Map<String, String> DJL_OPTIONS = Map.of(
            "addSpecialTokens", "true", "truncation", "false", "padding", "false");

    private final HuggingFaceTokenizer tokenizer;
    private final Map<String, Integer> vocabulary;
    private final int vocabSize;
    private final OptionalInt bosTokenId;
    private final List<Integer> eosTokenIds;
    private final boolean cleanUpSpaces;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, TokenizerJson json, HfTokenizerConfig config,
                        List<Integer> eosTokenIds) {
        this.tokenizer = tokenizer;
        this.vocabulary = Map.copyOf(json.vocabulary());
        this.vocabSize = vocabulary.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        this.bosTokenId = config.special("bos_token").flatMap(json::id).map(OptionalInt::of).orElse(OptionalInt.empty());
        this.eosTokenIds = eosTokenIds;
        // transformers 5 skips clean_up_tokenization for BPE models ("destructive for BPE"; Llama 3, Qwen2 and
        // GPT-2 configs still say true) unless clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output
        this.cleanUpSpaces = config.cleanUpSpaces() && (!"BPE".equals(json.modelType()) || config.cleanUpSpacesForBpe());
    }

    /**
     * Loads {@code modelDir/tokenizer.json} with {@code tokenizer_config.json}, {@code special_tokens_map.json},
     * {@code generation_config.json} and {@code config.json} beside it where present.
     *
     * @throws CheckpointException naming the file, if tokenizer.json is missing or cannot be parsed, or a config
     *                             file is malformed
     */
    public static HfTokenizer open(Path modelDir) {
        Path file = modelDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException("no " + FILE + " in " + modelDir);
        }
        ObjectMapper mapper = new ObjectMapper();
        HfTokenizerConfig config = HfTokenizerConfig.read(modelDir, mapper);
        ObjectNode root = readTokenizerJson(file, mapper);
        TokenizerJson json = TokenizerJson.prepare(root, config);
        List<Integer> eos = eosTokenIds(modelDir, config, json, mapper);
        return new HfTokenizer(load(file, root, mapper), json, config, eos);
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new IllegalArgumentException("negative token id " + ids[i] + " at position " + i);
            }
            longs[i] = ids[i];
        }
        String text = tokenizer.decode(longs, skipSpecialTokens);
        return cleanUpSpaces ? cleanUpTokenization(text) : text;
    }

    @Override
    public OptionalInt tokenId(String token) {
        Integer id = vocabulary.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** {@code len(tokenizer)} in transformers: the model vocabulary plus added tokens (highest id + 1). */
    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public OptionalInt bosTokenId() {
        return bosTokenId;
    }

    @Override
    public List<Integer> eosTokenIds() {
        return eosTokenIds;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /** transformers' {@code clean_up_tokenization}, applied when the config asks for it (for BPE models, only if forced). */
    static String cleanUpTokenization(String text) {
        return text.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }

    private static ObjectNode readTokenizerJson(Path file, ObjectMapper mapper) {
        JsonNode root;
        try {
            root = mapper.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file + " is not valid JSON (truncated or corrupt?): "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (!(root instanceof ObjectNode object) || !root.path("model").isObject()) {
            throw new CheckpointException(file + " is not a tokenizers JSON file: no \"model\" object");
        }
        return object;
    }

    private static HuggingFaceTokenizer load(Path file, ObjectNode root, ObjectMapper mapper) {
        DjlOffline.ensure();
        try {
            byte[] bytes = mapper.writeValueAsBytes(root);
            return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(bytes), DJL_OPTIONS);
        } catch (EngineException | UnsatisfiedLinkError e) {
            throw new CheckpointException("cannot load the Hugging Face tokenizers native library for " + file
                    + " (is " + NATIVE_ARTIFACT + " on the class path?): " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException("cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    private static List<Integer> eosTokenIds(Path modelDir, HfTokenizerConfig config, TokenizerJson json,
                                             ObjectMapper mapper) {
        Set<Integer> ids = new LinkedHashSet<>();
        config.special("eos_token").flatMap(json::id).ifPresent(ids::add);
        for (String name : List.of("generation_config.json", "config.json")) {
            JsonNode eos = HfTokenizerConfig.readObject(modelDir.resolve(name), mapper).path("eos_token_id");
            if (eos.isInt()) {
                ids.add(eos.asInt());
            } else if (eos.isArray()) {
                eos.forEach(id -> ids.add(id.asInt()));
            }
        }
        return List.copyOf(ids);
    }
}
