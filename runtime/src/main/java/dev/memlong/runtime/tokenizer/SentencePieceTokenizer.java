package dev.memlong.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.runtime.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * The tokenizer of a model directory that has a SentencePiece {@code tokenizer.model} and no {@code tokenizer.json}
 * (OpenLLaMA, Llama 2 era checkpoints), behaving as transformers' {@code LlamaTokenizer(legacy=False)}: BOS/EOS added
 * per {@code tokenizer_config.json} ({@code add_bos_token}, default true; {@code add_eos_token}, default false);
 * special tokens written in the text become their ids, and the text after one gets no dummy prefix.
 *
 * <p>SentencePiece itself is reimplemented in Java ({@link SentencePieceProcessor}) rather than called through DJL's
 * {@code ai.djl.sentencepiece}: that artifact stops at 0.34.0 (there is no 0.36.0 to match our DJL), and its JNI
 * passes strings as modified UTF-8, which turns characters outside the BMP (emoji) and NUL into bytes SentencePiece
 * reads as malformed, so ids would differ from SentencePiece's for such text. It also exposes no piece types, which
 * BOS/EOS and special-token handling need. The Java port follows the C++ step by step (normalizer with precompiled
 * charsmaps, BPE and unigram, byte fallback, decoding) and is checked against SentencePiece's own outputs.
 */
public final class SentencePieceTokenizer implements TextTokenizer {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final SentencePieceProcessor sp;
    private final boolean addBos;
    private final boolean addEos;
    private final OptionalInt bos;
    private final OptionalInt eos;
    private final List<Integer> eosIds;
    /** Special token text -> id, longest first at equal positions. */
    private final Map<String, Integer> specialTokens = new LinkedHashMap<>();
    private final Set<Integer> specialIds = new TreeSet<>();

    private SentencePieceTokenizer(SentencePieceProcessor sp, JsonNode config, JsonNode generation) {
        this.sp = sp;
        this.addBos = config.path("add_bos_token").asBoolean(true);
        this.addEos = config.path("add_eos_token").asBoolean(false);
        this.bos = special(config.get("bos_token"), "<s>");
        this.eos = special(config.get("eos_token"), "</s>");
        special(config.get("unk_token"), "<unk>");
        special(config.get("pad_token"), null);
        for (Map.Entry<String, JsonNode> added : config.path("added_tokens_decoder").properties()) {
            JsonNode t = added.getValue();
            if (t.path("special").asBoolean(false)) {
                special(t, null);
            }
        }
        for (int id = 0; id < sp.vocab.pieces.length; id++) {
            if (sp.vocab.isControl(id) || sp.vocab.isUnknown(id)) {
                specialIds.add(id);
            }
        }
        List<Integer> eosList = new ArrayList<>();
        eos.ifPresent(eosList::add);
        JsonNode genEos = generation.path("eos_token_id");
        for (JsonNode n : genEos.isArray() ? genEos : List.of(genEos)) {
            if (n.isInt() && !eosList.contains(n.asInt())) {
                eosList.add(n.asInt());
            }
        }
        this.eosIds = List.copyOf(eosList);
    }

    /** Whether {@code modelDir} should use this tokenizer: a {@code tokenizer.model} and no {@code tokenizer.json}. */
    public static boolean appliesTo(Path modelDir) {
        return Files.isRegularFile(modelDir.resolve("tokenizer.model")) && !Files.exists(modelDir.resolve("tokenizer.json"));
    }

    /**
     * Loads {@code tokenizer.model}, with {@code tokenizer_config.json} and {@code generation_config.json} when present.
     *
     * @throws CheckpointException naming the directory, if a file is missing or unreadable, or the model is malformed
     *                             or of an unsupported kind (word/char models)
     */
    public static SentencePieceTokenizer open(Path modelDir) {
        if (!Files.isRegularFile(modelDir.resolve("tokenizer.model"))) {
            throw new CheckpointException("no tokenizer.model in " + modelDir);
        }
        try {
            SentencePieceModelProto proto = SentencePieceModelProto.parse(Files.readAllBytes(modelDir.resolve("tokenizer.model")));
            return new SentencePieceTokenizer(new SentencePieceProcessor(proto), json(modelDir.resolve("tokenizer_config.json")),
                    json(modelDir.resolve("generation_config.json")));
        } catch (IOException e) {
            throw new CheckpointException("cannot read the SentencePiece tokenizer in " + modelDir + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new CheckpointException("bad SentencePiece tokenizer in " + modelDir + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode json(Path file) throws IOException {
        return Files.exists(file) ? JSON.readTree(file.toFile()) : JSON.createObjectNode();
    }

    /** Registers a special token given as a string or an AddedToken object; returns its id if the vocabulary has it. */
    private OptionalInt special(JsonNode node, String fallback) {
        String text = node == null || node.isNull() ? fallback : node.isTextual() ? node.asText() : node.path("content").asText(null);
        if (text == null || text.isEmpty()) {
            return OptionalInt.empty();
        }
        OptionalInt id = tokenId(text);
        id.ifPresent(i -> {
            specialTokens.put(text, i);
            specialIds.add(i);
        });
        return id;
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
        List<Integer> ids = new ArrayList<>();
        if (addSpecialTokens && addBos) {
            bos.ifPresent(ids::add);
        }
        int pos = 0;
        while (pos <= text.length()) {
            int[] match = nextSpecial(text, pos); // {start, length}
            int end = match == null ? text.length() : match[0];
            if (end > pos) {
                for (int id : sp.encode(text.substring(pos, end), pos == 0)) {
                    ids.add(id);
                }
            }
            if (match == null) {
                break;
            }
            ids.add(specialTokens.get(text.substring(match[0], match[0] + match[1])));
            pos = match[0] + match[1];
        }
        if (addSpecialTokens && addEos) {
            eos.ifPresent(ids::add);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private int[] nextSpecial(String text, int from) {
        int[] best = null;
        for (String s : specialTokens.keySet()) {
            int at = text.indexOf(s, from);
            if (at >= 0 && (best == null || at < best[0] || (at == best[0] && s.length() > best[1]))) {
                best = new int[] {at, s.length()};
            }
        }
        return best;
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        if (skipSpecialTokens) {
            return sp.decode(java.util.Arrays.stream(ids).filter(id -> !specialIds.contains(id)).toArray(), true);
        }
        StringBuilder out = new StringBuilder();
        int runStart = 0;
        for (int i = 0; i <= ids.length; i++) {
            if (i == ids.length || specialIds.contains(ids[i])) {
                if (i > runStart) {
                    out.append(sp.decode(java.util.Arrays.copyOfRange(ids, runStart, i), runStart == 0));
                }
                if (i < ids.length) {
                    out.append(pieceText(ids[i]));
                }
                runStart = i + 1;
            }
        }
        return out.toString();
    }

    private String pieceText(int id) {
        if (id < 0 || id >= sp.vocab.pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + sp.vocab.pieces.length);
        }
        return new String(sp.vocab.pieces[id].getBytes(java.nio.charset.StandardCharsets.ISO_8859_1),
                java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public OptionalInt tokenId(String token) {
        String bytes = SentencePieceNormalizer.utf8Bytes(token);
        Integer id = sp.vocab.reserved.get(bytes);
        if (id == null) {
            id = sp.vocab.segmentable.get(bytes);
        }
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public int vocabSize() {
        return sp.vocab.pieces.length;
    }

    @Override
    public OptionalInt bosTokenId() {
        return bos;
    }

    @Override
    public List<Integer> eosTokenIds() {
        return eosIds;
    }

    /** The SentencePiece port itself, without transformers' special-token handling (for tests). */
    SentencePieceProcessor processor() {
        return sp;
    }

    /** Nothing native to release; present for {@link TextTokenizer}. */
    @Override
    public void close() {}
}
