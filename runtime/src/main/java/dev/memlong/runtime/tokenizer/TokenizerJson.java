package dev.memlong.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A {@code tokenizer.json} tree brought to the state transformers leaves its backend tokenizer in after
 * {@code from_pretrained}, so that the Rust tokenizer built from it encodes as transformers does:
 * <ol>
 *   <li>truncation and padding off (transformers disables them unless a call asks for them);</li>
 *   <li>special tokens named in {@code tokenizer_config.json} that the file lacks added as special tokens
 *       (transformers' {@code add_tokens(..., special_tokens=True)}: the vocabulary id if the token has one, else
 *       the next free id);</li>
 *   <li>the post-processor rebuilt from {@code add_bos_token}/{@code add_eos_token} where transformers rebuilds it:
 *       when the config sets either flag, and always for the Llama/Gemma tokenizer classes (defaults BOS on,
 *       EOS off).</li>
 * </ol>
 */
final class TokenizerJson {

    private static final Set<String> BOS_BY_DEFAULT_CLASSES = Set.of(
            "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
            "GemmaTokenizer", "GemmaTokenizerFast");

    private final ObjectNode root;
    private final Map<String, Integer> modelVocab;
    private final Map<String, Integer> addedTokens = new LinkedHashMap<>();

    private TokenizerJson(ObjectNode root) {
        this.root = root;
        this.modelVocab = modelVocab(root.path("model").path("vocab"));
        for (JsonNode token : root.path("added_tokens")) {
            addedTokens.put(token.path("content").asText(), token.path("id").asInt());
        }
    }

    /** Applies transformers' load-time changes to {@code root} (modified in place) as the config asks. */
    static TokenizerJson prepare(ObjectNode root, HfTokenizerConfig config) {
        TokenizerJson tokenizer = new TokenizerJson(root);
        root.putNull("truncation");
        root.putNull("padding");
        for (ObjectNode token : config.addedTokens()) {
            tokenizer.addIfMissing(addedToken(root, token));
        }
        config.specialTokens().values().forEach(content -> tokenizer.addIfMissing(specialToken(root, content)));
        config.additionalSpecial().forEach(content -> tokenizer.addIfMissing(specialToken(root, content)));
        tokenizer.rebuildPostProcessor(config);
        return tokenizer;
    }

    /** The model's type in tokenizer.json: {@code BPE}, {@code WordPiece}, {@code Unigram}, {@code WordLevel}. */
    String modelType() {
        return root.path("model").path("type").asText("");
    }

    /** Every token string with its id: the model's vocabulary plus the added tokens. */
    Map<String, Integer> vocabulary() {
        Map<String, Integer> all = new HashMap<>(modelVocab);
        all.putAll(addedTokens);
        return all;
    }

    Optional<Integer> id(String token) {
        Integer added = addedTokens.get(token);
        return Optional.ofNullable(added != null ? added : modelVocab.get(token));
    }

    private void addIfMissing(ObjectNode token) {
        String content = token.path("content").asText();
        if (addedTokens.containsKey(content)) {
            return;
        }
        int id = modelVocab.containsKey(content) ? modelVocab.get(content) : nextFreeId();
        token.put("id", id);
        ((ArrayNode) root.withArray("added_tokens")).add(token);
        addedTokens.put(content, id);
    }

    /** The id the Rust AddedVocabulary gives a token outside the model vocabulary. */
    private int nextFreeId() {
        int maxAdded = addedTokens.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        return Math.max(modelVocab.size(), maxAdded + 1);
    }

    private void rebuildPostProcessor(HfTokenizerConfig config) {
        boolean bosByDefault = BOS_BY_DEFAULT_CLASSES.contains(config.tokenizerClass());
        if (config.addBosToken() == null && config.addEosToken() == null && !bosByDefault) {
            return;
        }
        Optional<String> bos = config.special("bos_token").filter(token -> id(token).isPresent());
        Optional<String> eos = config.special("eos_token").filter(token -> id(token).isPresent());
        boolean addBos = (config.addBosToken() != null ? config.addBosToken() : bosByDefault) && bos.isPresent();
        boolean addEos = Boolean.TRUE.equals(config.addEosToken()) && eos.isPresent();

        ObjectNode processor = root.putObject("post_processor");
        processor.put("type", "TemplateProcessing");
        ArrayNode single = processor.putArray("single");
        ArrayNode pair = processor.putArray("pair");
        ObjectNode specials = processor.putObject("special_tokens");
        for (int typeId = 0; typeId < 2; typeId++) {
            for (ArrayNode template : typeId == 0 ? List.of(single, pair) : List.of(pair)) {
                if (addBos) {
                    template.addObject().putObject("SpecialToken").put("id", bos.get()).put("type_id", typeId);
                }
                template.addObject().putObject("Sequence").put("id", typeId == 0 ? "A" : "B").put("type_id", typeId);
                if (addEos) {
                    template.addObject().putObject("SpecialToken").put("id", eos.get()).put("type_id", typeId);
                }
            }
        }
        if (addBos) {
            putSpecial(specials, bos.get());
        }
        if (addEos) {
            putSpecial(specials, eos.get());
        }
    }

    private void putSpecial(ObjectNode specials, String token) {
        ObjectNode entry = specials.putObject(token);
        entry.put("id", token);
        entry.putArray("ids").add(id(token).orElseThrow());
        entry.putArray("tokens").add(token);
    }

    /** An {@code added_tokens_decoder} entry with Python AddedToken's defaults for what it leaves out. */
    private static ObjectNode addedToken(ObjectNode root, ObjectNode entry) {
        boolean special = entry.path("special").asBoolean(false);
        return root.objectNode().put("id", -1).put("content", entry.path("content").asText())
                .put("single_word", entry.path("single_word").asBoolean(false))
                .put("lstrip", entry.path("lstrip").asBoolean(false))
                .put("rstrip", entry.path("rstrip").asBoolean(false))
                .put("normalized", entry.path("normalized").asBoolean(!special))
                .put("special", special);
    }

    private static ObjectNode specialToken(ObjectNode root, String content) {
        return root.objectNode().put("id", -1).put("content", content).put("single_word", false)
                .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
    }

    /** BPE, WordPiece and WordLevel store {token: id}; Unigram stores [[piece, score], ...] in id order. */
    private static Map<String, Integer> modelVocab(JsonNode vocab) {
        Map<String, Integer> ids = new HashMap<>();
        if (vocab.isObject()) {
            vocab.properties().forEach(entry -> ids.put(entry.getKey(), entry.getValue().asInt()));
        } else if (vocab.isArray()) {
            for (int i = 0; i < vocab.size(); i++) {
                ids.putIfAbsent(vocab.get(i).path(0).asText(), i);
            }
        }
        return ids;
    }
}
