package dev.memlong.runtime.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The streamed text equals what the tokenizer decodes from the whole reply at once (the reference), for a
 * SentencePiece tokenizer with byte fallback, a byte-level BPE tokenizer (LLaMA 3) and the demo model's WordPiece
 * one, on text with multi-byte characters, emoji and punctuation; deltas never show half a character or a stop
 * string; and each token decodes a bounded span, not the whole reply.
 */
class TextAccumulatorTest {

    private static final String TEXT = "Grüße aus Köln! The café's naïve menu costs 12.50 € — really? 世界 🎉🎉 ok. "
            + "Then: \"quotes\", (parens) and tabs\tend here.";

    static Stream<Path> tokenizers() {
        return Stream.of(Fixtures.hfTinyLlama(), Fixtures.openLlamaStyleBin(), Fixtures.root().resolve("hf-tiny-llama3"),
                Fixtures.root().resolveSibling("models").resolve("demo"));
    }

    /** Counts the longest id span any decode call sees. */
    private static final class CountingTokenizer implements TextTokenizer {
        final TextTokenizer inner;
        int longestDecode;

        CountingTokenizer(TextTokenizer inner) {
            this.inner = inner;
        }

        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            return inner.encode(text, addSpecialTokens);
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            longestDecode = Math.max(longestDecode, ids.length);
            return inner.decode(ids, skipSpecialTokens);
        }

        @Override
        public OptionalInt tokenId(String token) {
            return inner.tokenId(token);
        }

        @Override
        public int vocabSize() {
            return inner.vocabSize();
        }

        @Override
        public OptionalInt bosTokenId() {
            return inner.bosTokenId();
        }

        @Override
        public List<Integer> eosTokenIds() {
            return inner.eosTokenIds();
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void streamedTextIsTheWholeDecodeAndEachTokenDecodesABoundedSpan(Path dir) {
        try (TextTokenizer tokenizer = Tokenizers.open(dir)) {
            String source = dir.endsWith("demo") ? TEXT.toLowerCase() : TEXT;
            int[] ids = tokenizer.encode(source.repeat(8), false);
            String reference = tokenizer.decode(ids, true);
            CountingTokenizer counting = new CountingTokenizer(tokenizer);
            TextAccumulator text = new TextAccumulator(counting, List.of());
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                String delta = text.add(id);
                assertFalse(delta.contains("\uFFFD") && !reference.contains("\uFFFD"), "half a character: " + delta);
                streamed.append(delta);
                assertTrue(reference.startsWith(streamed.toString()), "streamed so far is a prefix of the reference");
            }
            int longest = counting.longestDecode;
            streamed.append(text.flush());
            assertEquals(reference, streamed.toString());
            assertEquals(reference, text.finalText());
            assertTrue(longest <= 16, ids.length + " ids, yet one decode saw " + longest);
        }
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void aStopStringIsNeverStreamedAndEndsTheText(Path dir) {
        try (TextTokenizer tokenizer = Tokenizers.open(dir)) {
            String source = dir.endsWith("demo") ? TEXT.toLowerCase() : TEXT;
            int[] ids = tokenizer.encode(source, false);
            String reference = tokenizer.decode(ids, true);
            String stop = reference.contains("really") ? "really" : "menu";
            TextAccumulator text = new TextAccumulator(tokenizer, List.of(stop));
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                streamed.append(text.add(id));
                if (text.stopped()) {
                    break;
                }
            }
            assertTrue(text.stopped());
            String before = reference.substring(0, reference.indexOf(stop));
            assertEquals(before, streamed.toString());
            assertEquals(before, text.finalText());
        }
    }
}
