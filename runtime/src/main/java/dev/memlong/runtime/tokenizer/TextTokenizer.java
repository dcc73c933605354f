package dev.memlong.runtime.tokenizer;

import java.util.List;
import java.util.OptionalInt;

/**
 * Text to token ids and back, exactly as transformers' tokenizer for the same model directory does it.
 * Implementations: the Hugging Face {@code tokenizer.json} tokenizer and SentencePiece {@code tokenizer.model}.
 */
public interface TextTokenizer extends AutoCloseable {

    /**
     * @param addSpecialTokens whether to add BOS/EOS as the model's tokenizer does by default (transformers'
     *                         {@code add_special_tokens=True})
     */
    int[] encode(String text, boolean addSpecialTokens);

    /** Decodes ids; with {@code skipSpecialTokens} special/control tokens are left out. */
    String decode(int[] ids, boolean skipSpecialTokens);

    /** The id of a token string (a special token such as {@code </s>}), if the vocabulary has it. */
    OptionalInt tokenId(String token);

    /** Vocabulary size. */
    int vocabSize();

    OptionalInt bosTokenId();

    /** The end-of-sequence ids (the tokenizer's EOS plus any listed in generation_config.json). */
    List<Integer> eosTokenIds();

    @Override
    void close();
}
