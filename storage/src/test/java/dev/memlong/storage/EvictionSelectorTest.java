package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvictionSelectorTest {

    private static List<EvictionSelector.Candidate> chunks(long... counters) {
        List<EvictionSelector.Candidate> out = new ArrayList<>();
        for (int i = 0; i < counters.length; i++) {
            out.add(new EvictionSelector.Candidate(i, 10, counters[i]));
        }
        return out;
    }

    @Test
    void nothingWhileWithinCapacity() {
        assertEquals(List.of(), EvictionSelector.select(chunks(0, 0, 0), 30, EvictionPolicy.FREQUENCY));
    }

    @Test
    void fifoEvictsOldestUntilHalfFree() {
        // 11 chunks of 10 tokens, capacity 100: evict until <= 50 tokens remain -> 6 oldest go
        List<Long> evicted = EvictionSelector.select(chunks(new long[11]), 100, EvictionPolicy.FIFO);
        assertEquals(LongStream.range(0, 6).boxed().toList(), evicted);
    }

    @Test
    void frequencyProtectsNewestEvictsOldestThenLeastRetrieved() {
        // 20 chunks, capacity 190 (200 stored): oldest 2 always go, newest 2 are protected,
        // then the least-retrieved of the middle 16 (oldest first among equals) until <= 95 tokens remain.
        long[] counters = new long[20];
        for (int i = 0; i < 20; i++) {
            counters[i] = i % 2 == 0 ? 5 : 1; // odd seqs retrieved less
        }
        counters[0] = 100; // the oldest 10% go whatever their counter
        counters[19] = 0;  // the newest 10% stay whatever their counter
        counters[18] = 0;
        List<Long> evicted = EvictionSelector.select(chunks(counters), 190, EvictionPolicy.FREQUENCY);
        assertTrue(evicted.containsAll(List.of(0L, 1L)));
        assertTrue(!evicted.contains(18L) && !evicted.contains(19L));
        // 200 - 20 (oldest) = 180 -> need 9 more chunks out: the 8 odd middle seqs 3..17, then the oldest even (2)
        assertEquals(List.of(0L, 1L, 3L, 5L, 7L, 9L, 11L, 13L, 15L, 17L, 2L), evicted);
    }
}
