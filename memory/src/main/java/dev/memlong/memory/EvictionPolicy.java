package dev.memlong.memory;

/** What a full bank removes; {@link EvictionPlanner} has the exact rules. */
public enum EvictionPolicy {
    /**
     * The MemLong paper's policy: protect the newest 10% of chunks, evict the oldest 10%, then evict the
     * least-retrieved of the middle 80% (oldest first among equal counters) until half the capacity is free.
     */
    FREQUENCY,
    /** The reference code's policy: evict the oldest chunks until half the capacity is free. */
    FIFO
}
