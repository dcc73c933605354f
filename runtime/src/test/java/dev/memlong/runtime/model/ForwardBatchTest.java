package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.testing.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A forward's token ids are checked against the vocabulary before any layer runs, on every path. */
class ForwardBatchTest {

    @Test
    void tokenIdsOutsideTheVocabularyAreRefusedNamingIdAndVocabularySize() {
        try (LlamaModel model = LlamaModel.load(Fixtures.hfTinyLlama());
             KvCachePool cache = model.newCache(2, 32)) {
            int vocab = model.config().vocabSize();
            // one token (a decode step) and several (a prefill) may take different paths; both are checked
            for (int[] ids : List.of(new int[] {vocab}, new int[] {1, 2, vocab + 5, 3}, new int[] {-1})) {
                int bad = ids.length == 1 ? ids[0] : vocab + 5;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> model.forward(cache, List.of(new SequenceStep(0, new int[] {1}), new SequenceStep(1, ids)), false));
                assertTrue(e.getMessage().contains("token id " + bad) && e.getMessage().contains(String.valueOf(vocab)),
                        e.getMessage());
            }
            // nothing was appended: the slots are still usable
            assertEquals(0, cache.length(0));
            assertEquals(0, cache.length(1));
            float[][][] logits = model.forward(cache, List.of(new SequenceStep(0, new int[] {1, vocab - 1})), false);
            assertEquals(vocab, logits[0][0].length);
        }
    }
}
