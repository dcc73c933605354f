package dev.memlong.examples.bench.batching;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The steady window's figures: tokens and gaps while every conversation decodes, not the ramp-up before it. */
class TierFiguresTest {

    private static final long MS = 1_000_000;

    @Test
    void gapsThatBeganBeforeTheWindowAreNotCounted() {
        // conversation a decodes every 10 ms; b starts at 100 ms after a prompt forward that held a's token 40 ms
        long[] a = {0, 10 * MS, 20 * MS, 60 * MS, 70 * MS, 80 * MS};
        long[] b = {60 * MS, 70 * MS, 80 * MS};
        long from = 60 * MS;
        long to = 80 * MS;
        assertArrayEquals(new long[] {10 * MS, 10 * MS, 10 * MS, 10 * MS},
                TierFigures.gapsBetween(List.of(a, b), from, to));
        TierFigures f = TierFigures.of(2, 2, List.of(a, b), from, to, 40);
        assertEquals(10.0, f.itlP99Ms(), 1e-9);
        assertEquals(4, f.samples());
        assertEquals(4 / 0.020, f.tokS(), 1e-6, "tokens after from, per second of the window");
        // the long-prompt figures keep gaps that end in the window: the prompt's effect is what they measure
        assertArrayEquals(new long[] {40 * MS, 10 * MS, 10 * MS, 10 * MS, 10 * MS},
                TierFigures.gapsWithin(List.of(a, b), from - 1, to));
    }

    @Test
    void meanContextCountsTheTokensEachConversationHadBefore() {
        // a had decoded 3 tokens before the window, b none: window tokens of a at context 40+3..40+5, of b 40+0..40+2
        long[] a = {0, 10 * MS, 20 * MS, 60 * MS, 70 * MS, 80 * MS};
        long[] b = {60 * MS, 70 * MS, 80 * MS};
        // from just before b's first token: a's tokens 3..5 and b's 0..2 are in the window
        assertEquals(40 + (3 + 4 + 5 + 0 + 1 + 2) / 6.0, TierFigures.meanContext(List.of(a, b), 59 * MS, 80 * MS, 40), 1e-9);
        assertEquals(42.5, TierFigures.of(2, 2, List.of(a, b), 59 * MS, 80 * MS, 40).meanContextTokens(), 1e-9);
    }
}
