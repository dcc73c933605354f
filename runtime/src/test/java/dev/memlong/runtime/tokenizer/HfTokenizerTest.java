package dev.memlong.runtime.tokenizer;

import dev.memlong.runtime.checkpoint.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * BOS/EOS and special-token handling driven by tokenizer_config.json (as transformers applies it), no truncation,
 * thread safety, offline loading and the errors for bad files. Model directories are the fixture's tokenizer.json
 * with other configs beside it. In the fixture {@code <s>}=0, {@code <|end|>}=6, "a"=71, vocabulary 600.
 */
class HfTokenizerTest {

    @Test
    void longTextIsNeverTruncated() {
        try (TextTokenizer tokenizer = HfTokenizer.open(TokenizerFixtures.tinyLlama())) {
            String text = "Licensed under the Apache License, version 2.0. ".repeat(200);
            int[] ids = tokenizer.encode(text, true);
            assertTrue(ids.length > 2048, "only " + ids.length + " ids");
            assertEquals(text, tokenizer.decode(ids, true));
        }
    }

    @Test
    void llamaTokenizerClassAddsBosByDefault(@TempDir Path dir) throws IOException {
        try (TextTokenizer tokenizer = open(dir, """
                {"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<s>", "eos_token": "<|end|>"}""")) {
            assertArrayEquals(new int[] {0, 71}, tokenizer.encode("a", true));
            assertArrayEquals(new int[] {71}, tokenizer.encode("a", false));
        }
    }

    @Test
    void explicitAddBosAndEosRebuildThePostProcessor(@TempDir Path dir) throws IOException {
        try (TextTokenizer tokenizer = open(dir, """
                {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": true, "add_eos_token": true,
                 "bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "<|end|>"}""")) {
            assertArrayEquals(new int[] {0, 71, 6}, tokenizer.encode("a", true));
            assertEquals("a", tokenizer.decode(tokenizer.encode("a", true), true));
            assertEquals("<s>a<|end|>", tokenizer.decode(tokenizer.encode("a", true), false));
        }
    }

    @Test
    void addBosFalseTurnsItOffForLlama(@TempDir Path dir) throws IOException {
        try (TextTokenizer tokenizer = open(dir, """
                {"tokenizer_class": "LlamaTokenizer", "add_bos_token": false, "bos_token": "<s>"}""")) {
            assertArrayEquals(new int[] {71}, tokenizer.encode("a", true));
        }
    }

    @Test
    void specialTokensMissingFromTokenizerJsonAreAddedAsTransformersDoes(@TempDir Path dir) throws IOException {
        try (TextTokenizer tokenizer = open(dir, """
                {"eos_token": "<|end|>", "additional_special_tokens": ["<|tool|>"]}""")) {
            assertEquals(600, tokenizer.tokenId("<|tool|>").orElseThrow());
            assertEquals(601, tokenizer.vocabSize());
            int[] ids = tokenizer.encode("a<|tool|>a", false);
            assertArrayEquals(new int[] {71, 600, 71}, ids);
            assertEquals("aa", tokenizer.decode(ids, true));
            assertEquals("a<|tool|>a", tokenizer.decode(ids, false));
        }
    }

    @Test
    void eosIdsJoinTheTokenizersAndGenerationConfigs(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [6, 1]}");
        Files.writeString(dir.resolve("config.json"), "{\"eos_token_id\": 2}");
        try (TextTokenizer tokenizer = open(dir, "{\"eos_token\": \"<|end|>\", \"bos_token\": null}")) {
            assertEquals(List.of(6, 1, 2), tokenizer.eosTokenIds());
            assertTrue(tokenizer.bosTokenId().isEmpty());
        }
    }

    @Test
    void cleanUpTokenizationSpacesIsIgnoredForBpeUnlessForced(@TempDir Path dir) throws IOException {
        // transformers 5 skips the clean-up for BPE models (see fixtures/hf-tiny-llama3's reference) unless forced
        try (TextTokenizer tokenizer = open(dir, "{\"clean_up_tokenization_spaces\": true}")) {
            assertEquals("Hi , you .", tokenizer.decode(tokenizer.encode("Hi , you .", false), true));
        }
        Path forced = dir.resolve("forced");
        java.nio.file.Files.createDirectories(forced);
        try (TextTokenizer tokenizer = open(forced, "{\"clean_up_tokenization_spaces\": true, "
                + "\"clean_up_tokenization_spaces_for_bpe_even_though_it_will_corrupt_output\": true}")) {
            assertEquals("Hi, you.", tokenizer.decode(tokenizer.encode("Hi , you .", false), true));
        }
    }

    @Test
    void encodingIsThreadSafe() throws Exception {
        List<String> texts = new ArrayList<>();
        TokenizerFixtures.readJson(TokenizerFixtures.tinyLlama().resolve("reference.json")).get("cases")
                .forEach(c -> texts.add(c.get("text").asText()));
        try (TextTokenizer tokenizer = HfTokenizer.open(TokenizerFixtures.tinyLlama())) {
            List<int[]> expected = texts.stream().map(t -> tokenizer.encode(t, true)).toList();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Callable<Boolean>> jobs = new ArrayList<>();
                for (int job = 0; job < 8; job++) {
                    jobs.add(() -> {
                        for (int round = 0; round < 200; round++) {
                            for (int i = 0; i < texts.size(); i++) {
                                int[] ids = tokenizer.encode(texts.get(i), true);
                                if (!Arrays.equals(expected.get(i), ids)
                                        || !texts.get(i).equals(tokenizer.decode(ids, true))) {
                                    return false;
                                }
                            }
                        }
                        return true;
                    });
                }
                for (Future<Boolean> result : pool.invokeAll(jobs)) {
                    assertTrue(result.get());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void loadsInDjlOfflineModeFromTheJarsNatives() {
        try (TextTokenizer tokenizer = Tokenizers.open(TokenizerFixtures.tinyLlama())) {
            assertEquals("true", System.getProperty("ai.djl.offline"));
            assertTrue(ai.djl.util.Utils.isOfflineMode());
            assertEquals(1, tokenizer.encode("a", false).length);
        }
    }

    @Test
    void aMissingTokenizerNamesTheDirectory(@TempDir Path dir) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizers.open(dir));
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
        assertThrows(CheckpointException.class, () -> Tokenizers.open(dir.resolve("nope")));
    }

    @Test
    void onlyASentencePieceModelOpensTheSentencePieceTokenizer(@TempDir Path dir) throws IOException {
        try (TextTokenizer tok = Tokenizers.open(dev.memlong.runtime.testing.Fixtures.openLlamaStyleBin())) {
            assertTrue(tok instanceof SentencePieceTokenizer, tok.getClass().toString());
        }
        Files.writeString(dir.resolve("tokenizer.model"), "x");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizers.open(dir));
        assertTrue(e.getMessage().contains("bad SentencePiece tokenizer in " + dir), e.getMessage());
    }

    @Test
    void aTruncatedTokenizerJsonIsACheckpointErrorNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] whole = Files.readAllBytes(TokenizerFixtures.tinyLlama().resolve("tokenizer.json"));
        Files.write(dir.resolve("tokenizer.json"), Arrays.copyOf(whole, whole.length / 2));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizers.open(dir));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer.json").toString()), e.getMessage());
    }

    @Test
    void aTokenizerJsonTheLibraryRejectsIsACheckpointError(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"NoSuchModel\"}}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizers.open(dir));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
    }

    @Test
    void aCorruptTokenizerConfigIsACheckpointErrorNamingIt(@TempDir Path dir) throws IOException {
        Files.copy(TokenizerFixtures.tinyLlama().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": ");
        CheckpointException e = assertThrows(CheckpointException.class, () -> Tokenizers.open(dir));
        assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
    }

    @Test
    void negativeIdsAreRejected() {
        try (TextTokenizer tokenizer = HfTokenizer.open(TokenizerFixtures.tinyLlama())) {
            assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {1, -1}, false));
            assertFalse(tokenizer.decode(new int[] {71}, false).isEmpty());
        }
    }

    private static TextTokenizer open(Path dir, String tokenizerConfig) throws IOException {
        Files.copy(TokenizerFixtures.tinyLlama().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
        return Tokenizers.open(dir);
    }
}
