package dev.memlong.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo model's data and tokenizer: deterministic dialogues, no unknown tokens, lossless decoding. */
class SyntheticDialoguesTest {

    @TempDir
    Path tmp;

    @Test
    void dialoguesAreDeterministicAndAskAboutStatedFacts() {
        List<ChatMessage> a = new SyntheticDialogues(5).dialogue(2, 6);
        assertEquals(a, new SyntheticDialogues(5).dialogue(2, 6));
        ChatMessage lastQuestion = a.get(a.size() - 2);
        assertTrue(lastQuestion.content().startsWith("what") || lastQuestion.content().startsWith("where"));
    }

    @Test
    void theWordPieceTokenizerCoversTheDialoguesAndDecodesThem() throws Exception {
        WordPieceVocabularyWriter.write(tmp, SyntheticDialogues.vocabulary());
        try (TextTokenizer tok = Tokenizers.open(tmp)) {
            ChatTemplate template = ChatTemplate.open(tmp);
            String text = TrainingData.render(new SyntheticDialogues(9).dialogue(2, 6), java.util.Optional.of(template));
            int[] ids = tok.encode(text, false);
            for (int id : ids) {
                assertTrue(id != 0, "no <unk> in " + text);
            }
            assertEquals("my secret code is 4817.", tok.decode(tok.encode("my secret code is 4817.", false), true));
            assertEquals(2, tok.encode("</s>", false)[0]);
            assertTrue(ids.length < text.split(" ").length * 1.3, "about one token per word");
        }
    }
}
