package dev.memlong.gateway.backend.echo;

import dev.memlong.gateway.backend.BackendStats;
import dev.memlong.gateway.backend.ChatBackend;
import dev.memlong.gateway.backend.ChatConversation;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A deterministic backend without a model (see the package doc). A reply is {@code "echo:"} followed by the
 * user's words, one token each, every {@code tokenDelay}. Texts starting with {@code !overloaded}, {@code !fail}
 * or {@code !invalid} end with that error instead. At most {@code maxConcurrentTurns} turns run at once; more
 * are refused with {@code OVERLOADED}, as the real scheduler does.
 */
public final class EchoBackend implements ChatBackend, AutoCloseable {

    /** The model id {@link #models()} reports. */
    public static final String MODEL = "memlong-echo";

    private final Duration tokenDelay;
    private final int maxConcurrentTurns;
    private final ScheduledExecutorService scheduler;
    private final Map<String, EchoConversation> conversations = new ConcurrentHashMap<>();
    final AtomicInteger running = new AtomicInteger();
    final AtomicLong turnsStarted = new AtomicLong();
    final AtomicLong tokens = new AtomicLong();
    final AtomicLong reads = new AtomicLong();
    final AtomicLong forgets = new AtomicLong();

    /**
     * @param tokenDelay         time between two tokens of a reply
     * @param maxConcurrentTurns turns running at once before {@code OVERLOADED}
     */
    public EchoBackend(Duration tokenDelay, int maxConcurrentTurns) {
        this.tokenDelay = tokenDelay;
        this.maxConcurrentTurns = maxConcurrentTurns;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "echo-backend");
            t.setDaemon(true);
            return t;
        });
    }

    /** A backend with no delay and room for 64 concurrent turns. */
    public EchoBackend() {
        this(Duration.ZERO, 64);
    }

    @Override
    public ChatConversation conversation(String tenant, String conversationId) {
        return conversations.computeIfAbsent(tenant + '\u0000' + conversationId,
                k -> new EchoConversation(this, tenant, conversationId));
    }

    @Override
    public List<String> models() {
        return List.of(MODEL);
    }

    @Override
    public BackendStats stats() {
        long chunks = 0;
        long chunkTokens = 0;
        for (EchoConversation c : conversations.values()) {
            chunks += c.chunkCount();
            chunkTokens += c.memoryTokens();
        }
        return new BackendStats(0, running.get(), 0, 0, 0, 0, 0, 0, chunks, chunkTokens, conversations.size(), 0, 0, 0);
    }

    /** Turns started (streams subscribed and {@code send}s), for tests that check no stray calls reach the backend. */
    public long turnsStarted() {
        return turnsStarted.get();
    }

    /** {@code history()} and {@code memory()} calls so far. */
    public long reads() {
        return reads.get();
    }

    /** {@code forget()} calls so far. */
    public long forgets() {
        return forgets.get();
    }

    /** Turns running now. */
    public int running() {
        return running.get();
    }

    Duration tokenDelay() {
        return tokenDelay;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** Takes a turn slot, or returns false when all {@code maxConcurrentTurns} are taken. */
    boolean tryAdmit() {
        while (true) {
            int n = running.get();
            if (n >= maxConcurrentTurns) {
                return false;
            }
            if (running.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
