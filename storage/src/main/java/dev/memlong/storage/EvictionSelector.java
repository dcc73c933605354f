package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Chooses the chunks a full bank evicts. Stand-in for the memory module's planner until the branches merge.
 * <ul>
 *   <li>FIFO: oldest first until at most half the capacity is used.</li>
 *   <li>FREQUENCY (the paper): the newest 10% of chunks are protected; the oldest 10% go first; then the
 *   least-retrieved of the middle 80% (oldest first among equal counters) until at most half the capacity is
 *   used. Should that not suffice, protected chunks go oldest first until the bank is within capacity.</li>
 * </ul>
 */
final class EvictionSelector {

    /** A chunk as eviction sees it. */
    record Candidate(long seq, int tokens, long counter) {}

    private EvictionSelector() {}

    /** Seqs to evict from {@code chronological} chunks; empty when they fit {@code capacity}. */
    static List<Long> select(List<Candidate> chronological, long capacity, EvictionPolicy policy) {
        long total = chronological.stream().mapToLong(Candidate::tokens).sum();
        if (total <= capacity) {
            return List.of();
        }
        long target = capacity / 2;
        Set<Long> evicted = new LinkedHashSet<>();
        int n = chronological.size();
        if (policy == EvictionPolicy.FIFO) {
            total = evictInOrder(chronological, evicted, total, target);
        } else {
            int tenth = n / 10;
            List<Candidate> oldest = chronological.subList(0, tenth);
            List<Candidate> middle = new ArrayList<>(chronological.subList(tenth, n - tenth));
            for (Candidate c : oldest) {
                evicted.add(c.seq());
                total -= c.tokens();
            }
            middle.sort(Comparator.comparingLong(Candidate::counter).thenComparingLong(Candidate::seq));
            total = evictInOrder(middle, evicted, total, target);
            if (total > capacity) {
                total = evictInOrder(chronological, evicted, total, capacity);
            }
        }
        return List.copyOf(evicted);
    }

    private static long evictInOrder(List<Candidate> order, Set<Long> evicted, long total, long target) {
        for (Candidate c : order) {
            if (total <= target) {
                break;
            }
            if (evicted.add(c.seq())) {
                total -= c.tokens();
            }
        }
        return total;
    }
}
