package dev.memlong.actors;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Counts work that uses the store off the actors (commits and reads on the blocking pool, the trainer's thread), so
 * that {@link MemLongRuntime#close()} can wait for it before closing the store: work still running when the actors
 * stop would otherwise meet a closed store, and a commit in flight would be lost.
 */
public final class InFlightWork {

    private int running;

    /** An executor that runs on {@code delegate} and counts each task until it ends. */
    public Executor tracking(Executor delegate) {
        return task -> {
            begin();
            try {
                delegate.execute(() -> {
                    try {
                        task.run();
                    } finally {
                        end();
                    }
                });
            } catch (RejectedExecutionException e) {
                end(); // never ran
                throw e;
            }
        };
    }

    /** {@code body}, counted while it runs (for a thread's whole life: the trainer's). */
    public Runnable tracked(Runnable body) {
        return () -> {
            begin();
            try {
                body.run();
            } finally {
                end();
            }
        };
    }

    private synchronized void begin() {
        running++;
    }

    private synchronized void end() {
        running--;
        if (running == 0) {
            notifyAll();
        }
    }

    /** Work running now. */
    public synchronized int running() {
        return running;
    }

    /** Waits until no counted work runs, at most {@code timeout}; returns whether none runs. */
    public synchronized boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (running > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }
}
