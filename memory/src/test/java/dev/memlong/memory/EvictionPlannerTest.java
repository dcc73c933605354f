package dev.memlong.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EvictionPlannerTest {

    private static List<ChunkUsage> chunks(int[] tokens, long[] counts) {
        List<ChunkUsage> out = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            out.add(new ChunkUsage(100 + i, tokens[i], counts[i]));
        }
        return out;
    }

    @Test
    void withinCapacityEvictsNothing() {
        EvictionPlanner p = new EvictionPlanner(EvictionPolicy.FREQUENCY);
        assertEquals(List.of(), p.plan(chunks(new int[] {5, 5}, new long[] {0, 0}), 10));
        assertEquals(List.of(), p.plan(List.of(), 10));
    }

    @Test
    void frequencyOrderIsOldestTenthThenLeastRetrievedOldestFirst() {
        // 10 chunks of 10 tokens, capacity 90: evict to <= 45, i.e. 6 chunks.
        // Oldest 10%: seq 100. Protected: seq 109. Middle 101..108 with counters:
        long[] counts = {5, 2, 0, 1, 0, 2, 7, 1, 0, 0};
        List<Long> plan = new EvictionPlanner(EvictionPolicy.FREQUENCY)
                .plan(chunks(new int[] {10, 10, 10, 10, 10, 10, 10, 10, 10, 10}, counts), 90);
        assertEquals(List.of(100L, 102L, 104L, 108L, 103L, 107L), plan);
    }

    @Test
    void fifoOrderIsOldestFirst() {
        List<Long> plan = new EvictionPlanner(EvictionPolicy.FIFO)
                .plan(chunks(new int[] {10, 10, 10, 10}, new long[] {9, 9, 9, 0}), 30);
        assertEquals(List.of(100L, 101L, 102L), plan);
    }

    @Test
    void protectedChunksStayEvenWhenThatLeavesLessThanHalfFree() {
        // The single newest chunk is protected; evicting all others leaves 40 > 30/2.
        assertEquals(List.of(100L), new EvictionPlanner(EvictionPolicy.FIFO)
                .plan(chunks(new int[] {5, 40}, new long[] {0, 0}), 30));
        assertEquals(List.of(100L), new EvictionPlanner(EvictionPolicy.FREQUENCY)
                .plan(chunks(new int[] {5, 40}, new long[] {0, 0}), 30));
    }

    @Test
    void rejectsUnorderedInputAndBadCapacity() {
        EvictionPlanner p = new EvictionPlanner(EvictionPolicy.FIFO);
        List<ChunkUsage> unordered = List.of(new ChunkUsage(5, 1, 0), new ChunkUsage(4, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> p.plan(unordered, 1));
        assertThrows(IllegalArgumentException.class, () -> p.plan(List.of(), 0));
        assertThrows(IllegalArgumentException.class, () -> new ChunkUsage(1, 0, 0));
    }
}
