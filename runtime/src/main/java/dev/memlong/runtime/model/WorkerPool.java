package dev.memlong.runtime.model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Runs the tasks {@code 0..n-1} of one parallel loop on the calling thread plus {@code threads - 1} helper threads,
 * for the Java decode step ({@code VectorDecoder}), which issues about five loops per layer (tens to hundreds of
 * microseconds each) per step.
 *
 * <p>Why not an {@code ExecutorService}: handing a task to a pool thread costs tens of microseconds (a queue, a
 * wake-up), the size of a whole small loop here. Helpers instead watch a volatile job reference, spinning for a
 * short while after each job (the next loop of a step follows within microseconds) and then parking, so an idle
 * model costs no CPU. Tasks are claimed from a shared counter, so when another process takes one core the other
 * thread simply claims more tasks; the caller never waits for a helper that has not started (it runs the tasks
 * itself), only for tasks a helper has already claimed, and it parks too if that takes long (the helper was
 * descheduled: spinning would only take CPU from it on a busy machine).
 *
 * <p>One loop at a time: {@link #forEach} is called from one thread (the model's). Closing stops the helpers.
 */
final class WorkerPool implements AutoCloseable {

    /** How long a waiting thread spins before parking: longer than the gap between the loops of a step. */
    static final long SPIN_NANOS = Long.getLong("memlong.java-decode.spin-ns", 50_000);

    private final Thread[] helpers;
    private final AtomicReference<Job> current = new AtomicReference<>();
    private volatile boolean closed;

    WorkerPool(int threads, String name) {
        helpers = new Thread[Math.max(0, threads - 1)];
        for (int i = 0; i < helpers.length; i++) {
            helpers[i] = new Thread(this::helperLoop, name + "-" + (i + 1));
            helpers[i].setDaemon(true);
            helpers[i].start();
        }
    }

    int threads() {
        return helpers.length + 1;
    }

    /** Runs {@code task.accept(i)} for every {@code i} in {@code [0, n)} and returns when all have run. */
    void forEach(int n, IntConsumer task) {
        if (n <= 0) {
            return;
        }
        if (helpers.length == 0 || n == 1) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return;
        }
        Job job = new Job(n, task, Thread.currentThread());
        current.set(job);
        for (Thread h : helpers) {
            LockSupport.unpark(h);
        }
        job.work();
        job.awaitDone();
        Throwable t = job.failure.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    private void helperLoop() {
        Job seen = null;
        while (!closed) {
            Job job = current.get();
            if (job != null && job != seen) {
                seen = job;
                job.work();
                continue;
            }
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (current.get() == seen && !closed && System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            }
            if (current.get() == seen && !closed) {
                LockSupport.park(this);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread h : helpers) {
            LockSupport.unpark(h);
        }
        for (Thread h : helpers) {
            try {
                h.join(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One parallel loop: tasks are claimed from {@code next}; {@code done} counts finished ones. */
    private static final class Job {
        private final int n;
        private final IntConsumer task;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger done = new AtomicInteger();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(int n, IntConsumer task, Thread caller) {
            this.n = n;
            this.task = task;
            this.caller = caller;
        }

        void work() {
            int i;
            while ((i = next.getAndIncrement()) < n) {
                try {
                    if (failure.get() == null) {
                        task.accept(i);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == n) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        /** Waits for the tasks other threads claimed: spins a while, then parks until the last one unparks it. */
        void awaitDone() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (done.get() < n && System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            }
            while (done.get() < n) {
                LockSupport.parkNanos(this, 100_000);
            }
        }
    }
}
