package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SlotStreamsTest {

    @Test
    void slotsReadTheirDocumentsConsecutively() {
        SlotStreams s = new SlotStreams(List.of(new int[] {1, 2, 3, 4, 5}, new int[] {6, 7, 8}), 2, 3);
        SlotStreams.Piece a = s.next(0);
        assertArrayEquals(new long[] {1, 2, 3}, a.tokens());
        assertArrayEquals(new long[] {2, 3, 4}, a.targets());
        assertTrue(a.newDocument());
        SlotStreams.Piece b = s.next(0);
        assertArrayEquals(new long[] {4, 5, 0}, b.tokens());
        assertArrayEquals(new long[] {5, -1, -1}, b.targets(), "no target past the document's end or in padding");
        assertEquals(2, b.length());
        SlotStreams.Piece c = s.next(1);
        assertArrayEquals(new long[] {6, 7, 8}, c.tokens());
        assertEquals(1, c.document());
    }

    @Test
    void contextOnlyTokensAreReadButNotPredicted() {
        // "question answer": only the answer's two tokens (30, 31) are trained on
        int[] doc = {SlotStreams.contextOnly(10), SlotStreams.contextOnly(11), SlotStreams.contextOnly(12), 30, 31};
        SlotStreams s = new SlotStreams(List.of(doc), 1, 5);
        SlotStreams.Piece p = s.next(0);
        assertArrayEquals(new long[] {10, 11, 12, 30, 31}, p.tokens(), "the model reads every token as its id");
        assertArrayEquals(new long[] {-1, -1, 30, 31, -1}, p.targets());
        assertEquals(2, p.targetCount());
        assertArrayEquals(new int[] {10, 11, 12, 30, 31}, p.realTokens(), "memory stores the real ids");
        assertEquals(12, SlotStreams.id(SlotStreams.contextOnly(12)));
        assertEquals(SlotStreams.contextOnly(12), SlotStreams.contextOnly(SlotStreams.contextOnly(12)), "idempotent");
        assertEquals(0, SlotStreams.id(SlotStreams.contextOnly(0)), "id 0 is markable too");
    }
}
