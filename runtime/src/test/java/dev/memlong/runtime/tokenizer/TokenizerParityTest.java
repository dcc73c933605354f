package dev.memlong.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Token ids, decoded text and the rendered chat of hf-tiny-llama equal what transformers computed. */
class TokenizerParityTest {

    private static TextTokenizer tokenizer;
    private static JsonNode reference;

    @BeforeAll
    static void open() {
        tokenizer = Tokenizers.open(TokenizerFixtures.tinyLlama());
        reference = TokenizerFixtures.readJson(TokenizerFixtures.tinyLlama().resolve("reference.json"));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @Test
    void everyCaseEncodesToTheReferenceIds() {
        for (JsonNode c : reference.get("cases")) {
            assertArrayEquals(TokenizerFixtures.ints(c.get("ids")), tokenizer.encode(c.get("text").asText(), true),
                    c.get("text").asText());
        }
    }

    @Test
    void everyCaseDecodesToTheReferenceText() {
        for (JsonNode c : reference.get("cases")) {
            assertEquals(c.get("decoded").asText(), tokenizer.decode(TokenizerFixtures.ints(c.get("ids")), true));
        }
    }

    @Test
    void chatRendersAndEncodesAsTransformers() {
        JsonNode chat = reference.get("chat").get(0);
        List<ChatMessage> messages = new ArrayList<>();
        chat.get("messages").forEach(m -> messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));

        String rendered = ChatTemplate.open(TokenizerFixtures.tinyLlama()).render(messages, true);

        assertEquals(chat.get("rendered").asText(), rendered);
        assertArrayEquals(TokenizerFixtures.ints(chat.get("ids")), tokenizer.encode(rendered, false));
    }

    @Test
    void specialTokensComeFromTheConfigs() {
        assertEquals(0, tokenizer.bosTokenId().orElseThrow());
        assertEquals(List.of(6), tokenizer.eosTokenIds());
        assertEquals(600, tokenizer.vocabSize());
        assertEquals(6, tokenizer.tokenId("<|end|>").orElseThrow());
        assertEquals(2, tokenizer.tokenId("<unk>").orElseThrow());
    }

    @Test
    void specialTokensAreKeptOrSkippedOnDecode() {
        JsonNode chat = reference.get("chat").get(0);
        int[] ids = TokenizerFixtures.ints(chat.get("ids"));
        assertEquals(chat.get("rendered").asText(), tokenizer.decode(ids, false));
        String skipped = tokenizer.decode(ids, true);
        assertEquals(false, skipped.contains("<|end|>"), skipped);
    }
}
