package dev.memlong.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.runtime.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SentencePieceTokenizerTest {

    private static final Path DIR = Fixtures.openLlamaStyleBin();

    @TempDir
    Path tmp;

    /** ids = [bos] + SentencePieceProcessor.encode(text), decoded = SentencePieceProcessor.decode(ids[1:]). */
    @Test
    void idsAndDecodedTextMatchSentencePiece() throws Exception {
        JsonNode ref = new ObjectMapper().readTree(DIR.resolve("reference.json").toFile());
        assertTrue(SentencePieceTokenizer.appliesTo(DIR));
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.open(DIR)) {
            assertEquals(4, ref.get("cases").size());
            for (JsonNode c : ref.get("cases")) {
                String text = c.get("text").asText();
                int[] expected = new int[c.get("ids").size()];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = c.get("ids").get(i).asInt();
                }
                assertArrayEquals(expected, tok.encode(text, true), text);
                assertArrayEquals(Arrays.copyOfRange(expected, 1, expected.length), tok.encode(text, false), text);
                assertEquals(c.get("decoded").asText(), tok.decode(expected, true), text);
                assertEquals(c.get("decoded").asText(), tok.decode(Arrays.copyOfRange(expected, 1, expected.length), false));
            }
        }
    }

    @Test
    void specialTokensAndVocabulary() {
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.open(DIR)) {
            assertEquals(500, tok.vocabSize());
            assertEquals(OptionalInt.of(1), tok.bosTokenId());
            assertEquals(List.of(2), tok.eosTokenIds());
            assertEquals(OptionalInt.of(2), tok.tokenId("</s>"));
            assertEquals(OptionalInt.of(0), tok.tokenId("<unk>"));
            assertFalse(tok.tokenId("no such piece").isPresent());
            int[] withEos = tok.encode("a</s>", false);
            assertEquals(2, withEos[withEos.length - 1]);
            assertEquals("<s> a</s>", tok.decode(new int[] {1, 261, 2}, false));
            assertEquals("a", tok.decode(new int[] {1, 261, 2}, true));
        }
    }

    @Test
    void byteFallbackRoundTripsTextOutsideTheVocabulary() {
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.open(DIR)) {
            for (String s : List.of("emoji \uD83D\uDE00 and \u4E2D\u6587, NUL \u0000 end", "  leading and trailing  ", "\t\n")) {
                assertEquals(s, tok.decode(tok.encode(s, true), true), s);
            }
            int[] ids = tok.encode("\uD83D\uDE00", false);
            assertTrue(ids.length >= 4, Arrays.toString(ids)); // 4 UTF-8 bytes as byte pieces, after the space piece
        }
    }

    @Test
    void addEosAndNoBosFollowTokenizerConfig() throws Exception {
        Files.copy(DIR.resolve("tokenizer.model"), tmp.resolve("tokenizer.model"));
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"add_bos_token\": false, \"add_eos_token\": true}");
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.open(tmp)) {
            assertArrayEquals(new int[] {261, 2}, tok.encode("a", true));
            assertArrayEquals(new int[] {261}, tok.encode("a", false));
        }
    }

    /** A hand-built unigram model: Viterbi picks the best-scoring path; unknown runs merge into one id. */
    @Test
    void unigramViterbiAndUnknownMerging() throws Exception {
        ModelProtoWriter m = new ModelProtoWriter()
                .piece("<unk>", 0, 2).piece("<s>", 0, 3).piece("</s>", 0, 3)
                .piece("\u2581ab", -1, 1).piece("\u2581a", -2, 1).piece("b", -2, 1).piece("\u2581", -3, 1)
                .piece("a", -3, 1).piece("bc", -1.5f, 1)
                .modelType(1).normalizer(true, true, true);
        Files.write(tmp.resolve("tokenizer.model"), m.bytes());
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.open(tmp)) {
            assertArrayEquals(new int[] {1, 3}, tok.encode("ab", true)); // ▁ab (-1) beats ▁a b (-4)
            assertArrayEquals(new int[] {4, 8}, tok.encode("abc", false)); // ▁a bc (-3.5) beats ▁ab + unk (-14)
            assertArrayEquals(new int[] {3, 0}, tok.encode("ab\u00e9\u00e9", false)); // é é -> one unknown
            assertArrayEquals(new int[] {3}, tok.encode("   ab  ", false)); // extra whitespace removed
            assertArrayEquals(new int[] {4, 6, 5}, tok.encode("a  b", false)); // ▁a ▁ b
            assertEquals("ab  \u2047 ", tok.processor().decode(new int[] {3, 6, 0}, true));
            assertEquals("ab <unk>", tok.decode(new int[] {3, 6, 0}, false));
            assertEquals("ab ", tok.decode(new int[] {3, 6, 0}, true));
        }
    }
}
