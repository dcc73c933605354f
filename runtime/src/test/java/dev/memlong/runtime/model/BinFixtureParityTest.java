package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.checkpoint.ModelConverter;
import dev.memlong.runtime.tokenizer.SentencePieceTokenizer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The openllama-style-bin fixture (pytorch_model.bin + SentencePiece tokenizer.model) against transformers'
 * reference.json: ids, logits at every position within 1e-4, the 24-token greedy continuation; and the same after
 * {@link ModelConverter} has rewritten the weights as safetensors.
 */
class BinFixtureParityTest {

    private static final double TOLERANCE = 1e-4;
    private static final Path DIR = Fixtures.openLlamaStyleBin();

    @TempDir
    Path tmp;

    @Test
    void pickleCheckpointMatchesTransformers() throws Exception {
        assertParity(DIR);
    }

    @Test
    void convertedCheckpointMatchesTransformers() throws Exception {
        Path out = tmp.resolve("converted");
        ModelConverter.convert(DIR, out);
        assertParity(out);
    }

    private static void assertParity(Path modelDir) throws Exception {
        JsonNode ref = new ObjectMapper().readTree(DIR.resolve("reference.json").toFile());
        LlamaModel model = LlamaModel.load(modelDir);
        try (SentencePieceTokenizer tok = SentencePieceTokenizer.open(modelDir)) {
            for (JsonNode c : ref.get("cases")) {
                String text = c.get("text").asText();
                int[] ids = ints(c.get("ids"));
                assertArrayEquals(ids, tok.encode(text, true), text);
                float[][] logits = model.forwardLogits(ids);
                assertEquals(ids.length, logits.length, text);
                for (int p = 0; p < ids.length; p++) {
                    JsonNode row = c.get("logits").get(p);
                    assertEquals(row.size(), logits[p].length);
                    for (int v = 0; v < row.size(); v++) {
                        double diff = Math.abs(row.get(v).asDouble() - logits[p][v]);
                        assertTrue(diff <= TOLERANCE, () -> text + ": logit differs by " + diff);
                    }
                }
                int[] expected = ints(c.get("greedy"));
                int[] seq = ids;
                for (int step = 0; step < expected.length; step++) {
                    float[][] l = model.forwardLogits(seq);
                    int next = argmax(l[l.length - 1]);
                    assertEquals(expected[step], next, text + ": greedy step " + step);
                    seq = java.util.Arrays.copyOf(seq, seq.length + 1);
                    seq[seq.length - 1] = next;
                }
            }
        } finally {
            model.close();
        }
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
