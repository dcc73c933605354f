package dev.memlong.examples.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a small Hugging Face WordPiece {@code tokenizer.json} (DJL has no tokenizer trainer): whole words from a
 * given vocabulary, and every ASCII letter, digit and punctuation mark as a word start and as a {@code ##}
 * continuation, so any ASCII text is tokenizable (unknown words fall back to characters). Also writes
 * {@code tokenizer_config.json} with the chat template and {@code chat_template.jinja}.
 */
public final class WordPieceVocabularyWriter {

    /** Special tokens, with their ids 0..6. */
    public static final List<String> SPECIAL = List.of("<unk>", "<s>", "</s>", "<pad>", "<|user|>", "<|assistant|>",
            "<|system|>");
    public static final int EOS = 2;
    public static final String CHAT_TEMPLATE = "{% for message in messages %}{{ '<|' + message['role'] + '|> ' "
            + "+ message['content'] + ' </s> ' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|> ' }}{% endif %}";
    private static final String PUNCTUATION = ".,?!'\":;-()/&%+=*#@$";
    private static final ObjectMapper JSON = new ObjectMapper();

    private WordPieceVocabularyWriter() {}

    /** Token strings by id. */
    public static Map<String, Integer> vocabulary(Collection<String> words) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : SPECIAL) {
            vocab.put(s, vocab.size());
        }
        List<String> chars = new ArrayList<>();
        for (char c = 'a'; c <= 'z'; c++) {
            chars.add(String.valueOf(c));
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            chars.add(String.valueOf(c));
        }
        for (char c = '0'; c <= '9'; c++) {
            chars.add(String.valueOf(c));
        }
        for (char c : PUNCTUATION.toCharArray()) {
            chars.add(String.valueOf(c));
        }
        for (String c : chars) {
            vocab.putIfAbsent(c, vocab.size());
            vocab.putIfAbsent("##" + c, vocab.size());
        }
        for (String w : words) {
            vocab.putIfAbsent(w, vocab.size());
        }
        return vocab;
    }

    /** Writes tokenizer.json, tokenizer_config.json and chat_template.jinja to {@code dir}; returns the vocabulary size. */
    public static int write(Path dir, Collection<String> words) throws IOException {
        Files.createDirectories(dir);
        Map<String, Integer> vocab = vocabulary(words);
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIAL.size(); i++) {
            added.addObject().put("id", i).put("content", SPECIAL.get(i)).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        // The dialogues are lower case; lower-casing input keeps "My sister's city is Lisbon." in the vocabulary
        // (without it, capitalised words would fall back to single characters the model never saw).
        root.putObject("normalizer").put("type", "Lowercase");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "WordPiece").put("prefix", "##").put("cleanup", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "WordPiece");
        model.put("unk_token", "<unk>");
        model.put("continuing_subword_prefix", "##");
        model.put("max_input_chars_per_word", 100);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));

        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
        cfg.put("bos_token", "<s>");
        cfg.put("eos_token", "</s>");
        cfg.put("unk_token", "<unk>");
        cfg.put("pad_token", "<pad>");
        cfg.put("add_bos_token", false);
        cfg.put("add_eos_token", false);
        cfg.put("clean_up_tokenization_spaces", true);
        cfg.put("model_max_length", 1 << 20);
        cfg.put("chat_template", CHAT_TEMPLATE);
        Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
        Files.writeString(dir.resolve("chat_template.jinja"), CHAT_TEMPLATE);
        return vocab.size();
    }
}
