package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Parameters are checked where they are made, so no invalid value reaches a device's thread. */
class GenerationParamsTest {

    @Test
    void maxNewTokensIsBoundedAndTheErrorNamesTheLimit() {
        int limit = GenerationParams.MAX_NEW_TOKENS_LIMIT;
        assertEquals(limit, GenerationParams.greedy(limit).maxNewTokens());
        for (int tooMany : new int[] {limit + 1, Integer.MAX_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GenerationParams.defaults().withMaxNewTokens(tooMany));
            assertTrue(e.getMessage().contains("maxNewTokens") && e.getMessage().contains(String.valueOf(limit)),
                    e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> GenerationParams.greedy(-1));
    }
}
