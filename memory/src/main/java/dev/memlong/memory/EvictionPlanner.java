package dev.memlong.memory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Chooses which chunks a bank over capacity removes, so every {@link MemoryBank} implementation evicts the same
 * chunks. Eviction goes down a priority order and stops as soon as at least half the capacity is free
 * ({@code 2 * tokens <= capacity}):
 * <ul>
 *   <li>{@link EvictionPolicy#FREQUENCY}: with {@code n} chunks, the newest {@code max(1, n / 10)} are protected;
 *       first the oldest {@code n / 10} go, oldest first; then the middle chunks, least-retrieved first, oldest
 *       first among equal counters.</li>
 *   <li>{@link EvictionPolicy#FIFO}: oldest first; the newest chunk is protected.</li>
 * </ul>
 * Protected chunks are never evicted, even when evicting all others does not free half the capacity.
 */
public final class EvictionPlanner {

    private final EvictionPolicy policy;

    public EvictionPlanner(EvictionPolicy policy) {
        if (policy == null) {
            throw new IllegalArgumentException("eviction policy must be set");
        }
        this.policy = policy;
    }

    public EvictionPolicy policy() {
        return policy;
    }

    /**
     * @param chunks         every chunk of the bank, in chronological (sequence) order
     * @param capacityTokens the bank's capacity
     * @return the sequence numbers to evict, in eviction order; empty if the chunks fit in the capacity
     */
    public List<Long> plan(List<ChunkUsage> chunks, long capacityTokens) {
        if (capacityTokens <= 0) {
            throw new IllegalArgumentException("capacityTokens must be positive, got " + capacityTokens);
        }
        long total = 0;
        for (int i = 0; i < chunks.size(); i++) {
            if (i > 0 && chunks.get(i).seq() <= chunks.get(i - 1).seq()) {
                throw new IllegalArgumentException("chunks must be in increasing sequence order, got "
                        + chunks.get(i - 1).seq() + " before " + chunks.get(i).seq());
            }
            total += chunks.get(i).tokens();
        }
        if (total <= capacityTokens) {
            return List.of();
        }
        List<Long> evicted = new ArrayList<>();
        for (ChunkUsage c : priorityOrder(chunks)) {
            if (2 * total <= capacityTokens) {
                break;
            }
            evicted.add(c.seq());
            total -= c.tokens();
        }
        return evicted;
    }

    private List<ChunkUsage> priorityOrder(List<ChunkUsage> chunks) {
        int n = chunks.size();
        if (policy == EvictionPolicy.FIFO) {
            return chunks.subList(0, n - 1);
        }
        int oldest = n / 10;
        int firstProtected = n - Math.max(1, n / 10);
        List<ChunkUsage> order = new ArrayList<>(chunks.subList(0, oldest));
        List<ChunkUsage> middle = new ArrayList<>(chunks.subList(oldest, firstProtected));
        middle.sort(Comparator.comparingLong(ChunkUsage::retrievalCount).thenComparingLong(ChunkUsage::seq));
        order.addAll(middle);
        return order;
    }
}
