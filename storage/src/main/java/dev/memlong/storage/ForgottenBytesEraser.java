package dev.memlong.storage;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Removes forgotten conversations' bytes from the files other conversations still use, in the background: after
 * {@link ConversationStore#forget} has deleted a conversation's keys and compacted their ranges, its K/V can still
 * sit in blob files shared with other conversations, and the write-ahead log keeps every write until all column
 * families have flushed past it. Erasing them rewrites the stored K/V of every conversation (a forced blob
 * garbage collection), so it runs off the caller's thread, and forgets that arrive while one is pending share it.
 */
final class ForgottenBytesEraser implements AutoCloseable {

    private final RocksStore db;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "memlong-forget-eraser");
        t.setDaemon(true);
        return t;
    });
    /** Whether an erase is queued and not started yet (forgets coalesce on it); guarded by this. */
    private boolean scheduled;
    private volatile Future<?> latest;

    ForgottenBytesEraser(RocksStore db) {
        this.db = db;
    }

    /** Asks for an erase after the forgets so far; shares one that has not started yet. */
    synchronized void request() {
        if (scheduled) {
            return;
        }
        try {
            latest = thread.submit(() -> {
                synchronized (this) {
                    scheduled = false; // forgets from now on need another pass
                }
                erase();
            });
            scheduled = true;
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the store is closing: the deletes are committed; the next open's first forget erases what is left
        }
    }

    private void erase() {
        try {
            for (ColumnFamily cf : ColumnFamily.CONVERSATION_DATA) {
                if (cf.largeValues()) {
                    db.compactErasingBlobs(cf);
                }
            }
            db.flush();
        } catch (StorageException e) {
            if (e.kind() != StorageException.Kind.CLOSED) {
                System.getLogger(ForgottenBytesEraser.class.getName()).log(System.Logger.Level.WARNING,
                        "erasing forgotten conversations' bytes failed; the next forget retries: " + e.getMessage());
            }
        }
    }

    /** Waits until every erase asked for so far has run (tests, and before the store closes). */
    boolean awaitIdle(long timeout, TimeUnit unit) {
        Future<?> last = latest;
        if (last == null) {
            return true;
        }
        try {
            last.get(timeout, unit);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true; // logged by the task
        }
    }

    /** Stops taking requests; an erase that has not started is dropped, a running one finishes first. */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
