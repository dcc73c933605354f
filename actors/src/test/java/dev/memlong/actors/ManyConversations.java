package dev.memlong.actors;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Child-JVM program of {@link ManyConversationsTest}: starts a runtime on the fixture model, sends one message to
 * each of {@code N} conversations (at most {@code inFlight} at a time, one new token each), then prints the heap
 * used after a GC (also before the first message: the runtime alone) and the number of conversation actors alive,
 * as {@code key=value} lines on stdout. Exits 0 when every turn succeeded, 1 otherwise.
 *
 * <p>Arguments: data directory, N, inFlight, idle timeout (HOCON duration).
 */
public final class ManyConversations {

    private ManyConversations() {}

    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        int inFlight = Integer.parseInt(args[2]);
        String idle = args[3];
        long t0 = System.nanoTime();
        GenerationParams oneToken = GenerationParams.greedy(1).withIgnoreEos(true);
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<Throwable> firstError = new AtomicReference<>();
        try (MemLongRuntime rt = MemLongRuntime.builder(ConfigFactory.parseString(
                        "memlong.actors.idle-timeout = " + idle + "\nmemlong.actors.max-queue = " + inFlight)
                        .withFallback(TestRuntimes.config(data, 1, 16, inFlight, "")))
                .retriever(TestRuntimes.RETRIEVER).start()) {
            long baseline = heapAfterGc();
            Semaphore permits = new Semaphore(inFlight);
            CompletableFuture<?>[] all = new CompletableFuture<?>[n];
            for (int i = 0; i < n; i++) {
                permits.acquire();
                all[i] = rt.conversation("tenant-" + (i % 10), "user-" + i)
                        .send("Hello, I am user " + i + ".", oneToken)
                        .whenComplete((reply, error) -> {
                            permits.release();
                            if (error != null) {
                                failed.incrementAndGet();
                                firstError.compareAndSet(null, error);
                            }
                        });
            }
            CompletableFuture.allOf(all).exceptionally(e -> null).join();
            long sent = System.nanoTime();
            int active = rt.activeConversations();
            long used = heapAfterGc();
            System.out.println("conversations=" + n);
            System.out.println("failed=" + failed.get());
            System.out.println("active=" + active);
            System.out.println("heap_baseline_bytes=" + baseline);
            System.out.println("heap_used_bytes=" + used);
            System.out.println("heap_max_bytes=" + Runtime.getRuntime().maxMemory());
            System.out.println("seconds=" + (sent - t0) / 1e9);
            if (firstError.get() != null) {
                System.out.println("first_error=" + firstError.get());
            }
        }
        System.exit(failed.get() == 0 ? 0 : 1);
    }

    private static long heapAfterGc() throws InterruptedException {
        Runtime runtime = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200); // lets the GC's follow-up work (reference processing, Cleaners) finish
        }
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
