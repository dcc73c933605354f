package dev.memlong.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A synthetic LLaMA-style {@code tokenizer.json} of exactly {@code vocab} tokens that both the Hugging Face tokenizers
 * library (our runtime) and Jlama's BPE tokenizer load: {@code <unk>, <s>, </s>}, the 256 byte-fallback tokens
 * {@code <0x00>..<0xFF>}, the single symbols {@code ▁} and printable ASCII, then merges that each join an existing
 * token and one symbol ({@code "ab" + "c"}), in order, until the vocabulary is full. Every merge's parts and result
 * are in the vocabulary, so the BPE model is valid. No normalizer or pre-tokenizer: text the merges do not cover
 * falls back to bytes. The benchmark feeds token ids; the tokenizer only has to exist and load.
 */
final class BenchTokenizer {

    static final String SPACE = "\u2581";
    static final int UNK = 0;
    static final int BOS = 1;
    static final int EOS = 2;
    private static final int SPECIALS = 3;
    private static final int BYTES = 256;

    private BenchTokenizer() {}

    /** The smallest vocabulary this scheme can fill: specials, bytes and single symbols. */
    static int minimumVocab() {
        return SPECIALS + BYTES + symbols().size();
    }

    static ObjectNode tokenizerJson(ObjectMapper mapper, int vocab) {
        if (vocab < minimumVocab()) {
            throw new IllegalArgumentException("the benchmark tokenizer needs a vocabulary of at least " + minimumVocab());
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        ids.put("<unk>", UNK);
        ids.put("<s>", BOS);
        ids.put("</s>", EOS);
        for (int b = 0; b < BYTES; b++) {
            ids.put(String.format(Locale.ROOT, "<0x%02X>", b), ids.size());
        }
        List<String> symbols = symbols();
        List<String> pieces = new ArrayList<>(symbols);
        for (String s : symbols) {
            ids.put(s, ids.size());
        }
        List<String> merges = new ArrayList<>();
        for (int i = 0; ids.size() < vocab; i++) {
            String left = pieces.get(i);
            for (int j = 0; j < symbols.size() && ids.size() < vocab; j++) {
                String merged = left + symbols.get(j);
                if (ids.putIfAbsent(merged, ids.size()) == null) {
                    pieces.add(merged);
                    merges.add(left + " " + symbols.get(j));
                }
            }
        }
        return render(mapper, ids, merges);
    }

    private static List<String> symbols() {
        List<String> s = new ArrayList<>();
        s.add(SPACE);
        for (char c = '!'; c <= '~'; c++) {
            s.add(String.valueOf(c));
        }
        return s;
    }

    private static ObjectNode render(ObjectMapper mapper, Map<String, Integer> ids, List<String> merges) {
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (String special : List.of("<unk>", "<s>", "</s>")) {
            added.addObject().put("id", ids.get(special)).put("content", special).put("single_word", false)
                    .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        ObjectNode decoder = root.putObject("decoder");
        decoder.put("type", "Sequence");
        ArrayNode decoders = decoder.putArray("decoders");
        ObjectNode replace = decoders.addObject().put("type", "Replace");
        replace.putObject("pattern").put("String", SPACE);
        replace.put("content", " ");
        decoders.addObject().put("type", "ByteFallback");
        decoders.addObject().put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.put("ignore_merges", false);
        ObjectNode vocabNode = model.putObject("vocab");
        ids.forEach(vocabNode::put);
        ArrayNode mergeNode = model.putArray("merges");
        merges.forEach(mergeNode::add);
        return root;
    }

    /** {@code tokenizer_config.json}: BOS added, as LLaMA's tokenizer does. */
    static ObjectNode tokenizerConfig(ObjectMapper mapper) {
        ObjectNode c = mapper.createObjectNode();
        c.put("tokenizer_class", "LlamaTokenizerFast");
        c.put("bos_token", "<s>");
        c.put("eos_token", "</s>");
        c.put("unk_token", "<unk>");
        c.put("add_bos_token", true);
        c.put("add_eos_token", false);
        c.put("legacy", false);
        c.put("model_max_length", 2048);
        return c;
    }
}
