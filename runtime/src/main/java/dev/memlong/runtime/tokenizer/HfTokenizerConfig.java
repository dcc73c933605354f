package dev.memlong.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.runtime.checkpoint.CheckpointException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What transformers reads from {@code tokenizer_config.json} (and {@code special_tokens_map.json}, whose entries
 * win, as in transformers' {@code from_pretrained}). Every field is optional in the files.
 *
 * @param specialTokens      named special tokens as plain strings ({@code bos_token}, {@code eos_token},
 *                           {@code unk_token}, {@code pad_token}, ...), AddedToken dicts reduced to their content
 * @param additionalSpecial  {@code additional_special_tokens}
 * @param addedTokens        {@code added_tokens_decoder} entries, in id order, as the JSON objects of the file
 * @param addBosToken        {@code add_bos_token}, null when absent
 * @param addEosToken        {@code add_eos_token}, null when absent
 * @param tokenizerClass     {@code tokenizer_class}, "" when absent
 * @param cleanUpSpaces      {@code clean_up_tokenization_spaces} (absent: false, as in transformers 4.45+ and v5)
 * @param cleanUpSpacesForBpe {@code clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output}: without
 *                           it transformers 5 ignores {@code clean_up_tokenization_spaces} for BPE models
 * @param chatTemplate       the {@code chat_template} to use ("default" when the file holds a list), if any
 */
record HfTokenizerConfig(Map<String, String> specialTokens, List<String> additionalSpecial,
                         List<ObjectNode> addedTokens, Boolean addBosToken, Boolean addEosToken,
                         String tokenizerClass, boolean cleanUpSpaces, boolean cleanUpSpacesForBpe,
                         Optional<String> chatTemplate) {

    static final String FILE = "tokenizer_config.json";
    private static final String SPECIAL_TOKENS_MAP = "special_tokens_map.json";
    private static final List<String> NAMED = List.of(
            "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    /** Reads the config files of {@code modelDir}; a directory without them gives an empty config. */
    static HfTokenizerConfig read(Path modelDir, ObjectMapper json) {
        JsonNode config = readObject(modelDir.resolve(FILE), json);
        JsonNode map = readObject(modelDir.resolve(SPECIAL_TOKENS_MAP), json);
        Map<String, String> special = new LinkedHashMap<>();
        for (String name : NAMED) {
            JsonNode value = map.has(name) ? map.get(name) : config.get(name);
            tokenContent(value).ifPresent(content -> special.put(name, content));
        }
        JsonNode extra = map.has("additional_special_tokens")
                ? map.get("additional_special_tokens") : config.path("additional_special_tokens");
        List<String> additional = new ArrayList<>();
        extra.forEach(token -> tokenContent(token).ifPresent(additional::add));
        List<ObjectNode> added = new ArrayList<>();
        config.path("added_tokens_decoder").properties().stream()
                .sorted((a, b) -> Integer.compare(parseId(a.getKey()), parseId(b.getKey())))
                .forEach(entry -> {
                    if (entry.getValue() instanceof ObjectNode token && token.hasNonNull("content")) {
                        added.add(token);
                    }
                });
        return new HfTokenizerConfig(Map.copyOf(special), List.copyOf(additional), List.copyOf(added),
                optionalBoolean(config, "add_bos_token"), optionalBoolean(config, "add_eos_token"),
                config.path("tokenizer_class").asText(""),
                config.path("clean_up_tokenization_spaces").asBoolean(false),
                config.path("clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output").asBoolean(false),
                chatTemplate(config, modelDir.resolve(FILE)));
    }

    Optional<String> special(String name) {
        return Optional.ofNullable(specialTokens.get(name));
    }

    /** A token given either as a string or as an AddedToken dict {@code {"content": ...}}. */
    static Optional<String> tokenContent(JsonNode value) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return Optional.empty();
        }
        if (value.isTextual()) {
            return Optional.of(value.asText());
        }
        JsonNode content = value.get("content");
        return content != null && content.isTextual() ? Optional.of(content.asText()) : Optional.empty();
    }

    private static Optional<String> chatTemplate(JsonNode config, Path file) {
        JsonNode template = config.get("chat_template");
        if (template == null || template.isNull()) {
            return Optional.empty();
        }
        if (template.isTextual()) {
            return Optional.of(template.asText());
        }
        if (template.isArray()) {
            for (JsonNode named : template) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return Optional.of(named.get("template").asText());
                }
            }
            throw new CheckpointException(file + ": chat_template is a list without a template named \"default\"");
        }
        throw new CheckpointException(file + ": chat_template must be a string or a list of {name, template}");
    }

    private static Boolean optionalBoolean(JsonNode config, String field) {
        JsonNode value = config.get(field);
        return value != null && value.isBoolean() ? value.asBoolean() : null;
    }

    private static int parseId(String key) {
        try {
            return Integer.parseInt(key);
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** The file's JSON object, or an empty object if there is no such file. */
    static JsonNode readObject(Path file, ObjectMapper json) {
        if (!Files.exists(file)) {
            return json.createObjectNode();
        }
        try {
            JsonNode node = json.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new CheckpointException(file + " is not a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
