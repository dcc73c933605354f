package dev.memlong.runtime.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.testing.Fixtures;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Generation stop conditions and streaming, on the fixture model's transformers greedy continuation. */
class GeneratorTest {

    private static ModelBundle bundle;
    private static int[] prompt;
    private static int[] greedy;

    @BeforeAll
    static void open() {
        bundle = ModelBundle.open(Fixtures.hfTinyLlama());
        JsonNode c = Fixtures.reference(Fixtures.hfTinyLlama()).get("cases").get(1);
        prompt = Fixtures.ints(c.get("ids"));
        greedy = Fixtures.ints(c.get("greedy"));
    }

    @AfterAll
    static void close() {
        bundle.close();
    }

    @Test
    void greedyRunsToMaxNewTokensAndMatchesTransformers() {
        Generation g = bundle.generator().generate(prompt, SamplingParams.greedy(24));
        assertArrayEquals(greedy, g.ids());
        assertEquals(Generation.StopReason.LENGTH, g.stopReason());
        assertEquals(bundle.tokenizer().decode(greedy, true), g.text());
    }

    @Test
    void stopTokenEndsGenerationAndIsLeftOutOfTheText() {
        int stop = greedy[3]; // the 4th greedy token
        int firstAt = 0;
        while (greedy[firstAt] != stop) {
            firstAt++;
        }
        Generation g = bundle.generator().generate(prompt, SamplingParams.greedy(24).withStopTokens(List.of(stop)));
        assertArrayEquals(Arrays.copyOf(greedy, firstAt + 1), g.ids());
        assertEquals(Generation.StopReason.STOP_TOKEN, g.stopReason());
        assertEquals(bundle.tokenizer().decode(Arrays.copyOf(greedy, firstAt), true), g.text());
    }

    @Test
    void stopStringCutsTheTextBeforeIt() {
        String full = bundle.tokenizer().decode(greedy, true);
        String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
        StringBuilder streamed = new StringBuilder();
        Generation g = bundle.generator().generate(prompt, SamplingParams.greedy(24).withStopStrings(List.of(stop)),
                (id, delta) -> streamed.append(delta));
        assertEquals(Generation.StopReason.STOP_STRING, g.stopReason());
        assertEquals(full.substring(0, full.indexOf(stop)), g.text());
        assertEquals(g.text(), streamed.toString(), "streamed deltas add up to the final text");
        assertTrue(g.ids().length < 24);
    }

    @Test
    void streamedDeltasAddUpToTheText() {
        StringBuilder streamed = new StringBuilder();
        Generation g = bundle.generator().generate(prompt, SamplingParams.greedy(24), (id, d) -> streamed.append(d));
        assertEquals(g.text(), streamed.toString());
    }

    @Test
    void badPromptsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> bundle.generator().generate(new int[0], SamplingParams.greedy(2)));
        assertThrows(IllegalArgumentException.class, () -> bundle.generator().generate(new int[] {600}, SamplingParams.greedy(2)));
    }
}
