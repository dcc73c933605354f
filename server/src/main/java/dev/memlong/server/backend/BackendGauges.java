package dev.memlong.server.backend;

import dev.memlong.actors.MemLongRuntime;
import dev.memlong.actors.Reply;
import dev.memlong.actors.RuntimeStats;
import dev.memlong.gateway.backend.BackendStats;
import dev.memlong.storage.ConversationKey;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * The {@link BackendStats} of a runtime, cheap enough for every scrape on a Netty event loop: the runtime's
 * counters ({@link MemLongRuntime#stats()}) plus what this backend sees pass by.
 *
 * <ul>
 *   <li>tokens/s: generated tokens over the last {@value #RATE_WINDOW_SECONDS} s (from samples taken at scrapes);
 *   <li>batch size, queue depth and retrievals: the device workers' own figures, through the runtime's stats;
 *   <li>active conversations: the runtime's count, asked for on a background thread at most once a second (a
 *       scrape never waits for it);
 *   <li>memory bank tokens: the sum over the conversations this backend served of their bank size after their
 *       last turn; chunks are that over the chunk size. Passivated: conversations served minus active ones.
 *   <li>trainer rounds: the rounds the runtime's trainer ran (published, rejected or failed), through the
 *       runtime's stats ({@link RuntimeStats#trainerRounds()}).
 * </ul>
 */
final class BackendGauges implements AutoCloseable {

    static final int RATE_WINDOW_SECONDS = 10;
    private static final long REFRESH_NANOS = 1_000_000_000L;

    private final MemLongRuntime runtime;
    private final int chunkSize;
    private final Map<ConversationKey, Long> memoryTokens = new ConcurrentHashMap<>();
    private final LongAdder memoryTokenSum = new LongAdder();
    private final ArrayDeque<long[]> samples = new ArrayDeque<>(); // {nanos, tokensGenerated}
    private final ExecutorService refresher = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "memlong-backend-gauges");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean refreshing = new AtomicBoolean();
    private volatile int active;
    private volatile long refreshedAt = System.nanoTime() - REFRESH_NANOS;

    BackendGauges(MemLongRuntime runtime, int chunkSize) {
        this.runtime = runtime;
        this.chunkSize = Math.max(1, chunkSize);
    }

    /** A finished turn of {@code key}: its bank now holds {@code reply.memoryTokens()}. */
    void replied(ConversationKey key, Reply reply) {
        Long old = memoryTokens.put(key, reply.memoryTokens());
        memoryTokenSum.add(reply.memoryTokens() - (old == null ? 0 : old));
        refreshActiveSoon(); // so that the next scrape does not pair a new conversation with an old active count
    }

    void forgotten(ConversationKey key) {
        Long old = memoryTokens.remove(key);
        if (old != null) {
            memoryTokenSum.add(-old);
        }
    }

    BackendStats snapshot() {
        RuntimeStats s = runtime.stats();
        refreshActiveSoon();
        long bank = memoryTokenSum.sum();
        int activeNow = active;
        return new BackendStats(rate(s.tokensGenerated()), s.batchSize(), s.queueDepth(), s.retrievals(),
                s.retrievalNanos(), s.memoryChunkReads().fetchedFromCache(), s.memoryChunkReads().fetchedFromDisk(),
                s.memoryChunkReads().readAhead(), bank / chunkSize, bank, activeNow, Math.max(0, memoryTokens.size() - activeNow),
                s.trainerRounds(), s.trainerRoundsPublished());
    }

    private synchronized double rate(long tokens) {
        long now = System.nanoTime();
        samples.addLast(new long[] {now, tokens});
        while (samples.size() > 2 && now - samples.peekFirst()[0] > RATE_WINDOW_SECONDS * 1_000_000_000L) {
            samples.removeFirst();
        }
        while (samples.size() > 256) {
            samples.removeFirst();
        }
        long[] first = samples.peekFirst();
        double seconds = (now - first[0]) / 1e9;
        return seconds > 0.001 ? (tokens - first[1]) / seconds : 0;
    }

    private void refreshActiveSoon() {
        if (System.nanoTime() - refreshedAt < REFRESH_NANOS || !refreshing.compareAndSet(false, true)) {
            return;
        }
        try {
            refresher.execute(() -> {
                try {
                    active = runtime.activeConversations();
                } catch (RuntimeException e) {
                    // closed or busy: keep the last count
                } finally {
                    refreshedAt = System.nanoTime();
                    refreshing.set(false);
                }
            });
        } catch (RejectedExecutionException closed) {
            refreshing.set(false);
        }
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
