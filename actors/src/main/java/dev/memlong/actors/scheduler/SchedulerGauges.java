package dev.memlong.actors.scheduler;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the device workers are doing now, written by each worker on its own thread and read by anyone (metrics
 * scrapes) without messaging an actor: per device the sequences in its running batch and the turns waiting for a
 * batch slot, and over all devices the memory retrievals done and the time they took.
 */
public final class SchedulerGauges {

    private final AtomicIntegerArray running;
    private final AtomicIntegerArray waiting;
    private final LongAdder retrievals = new LongAdder();
    private final LongAdder retrievalNanos = new LongAdder();

    public SchedulerGauges(int devices) {
        this.running = new AtomicIntegerArray(devices);
        this.waiting = new AtomicIntegerArray(devices);
    }

    /** Device {@code device} runs {@code batch} sequences and keeps {@code queued} turns waiting. */
    void load(int device, int batch, int queued) {
        running.set(device, batch);
        waiting.set(device, queued);
    }

    /** A retrieval finished that took {@code nanos} (query embedding, top-k search, K/V gather and upload). */
    void retrieved(long nanos) {
        retrievals.increment();
        retrievalNanos.add(nanos);
    }

    /**
     * Texts for a retrieval (its query, or chunks entering memory) were embedded off the device, and the query's
     * chunks read ahead from storage, in {@code nanos}.
     */
    void embedded(long nanos) {
        retrievalNanos.add(nanos);
    }

    /** Sequences in the running batches now, all devices. */
    public int batchSize() {
        int sum = 0;
        for (int i = 0; i < running.length(); i++) {
            sum += running.get(i);
        }
        return sum;
    }

    /** Turns waiting for a batch slot now, all devices. */
    public int queueDepth() {
        int sum = 0;
        for (int i = 0; i < waiting.length(); i++) {
            sum += waiting.get(i);
        }
        return sum;
    }

    /** Retrievals since start, all devices. */
    public long retrievals() {
        return retrievals.sum();
    }

    /** Total time of those retrievals. */
    public long retrievalNanos() {
        return retrievalNanos.sum();
    }
}
