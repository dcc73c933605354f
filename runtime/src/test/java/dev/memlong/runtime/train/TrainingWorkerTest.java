package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.testing.Fixtures;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** A failed or closed worker never leaves another worker running on arrays that are about to be closed. */
class TrainingWorkerTest {

    /** Keeps the CPU busy for {@code millis}, deaf to interrupts (as a thread inside libtorch is). */
    private static void busy(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aFailedWorkerIsReportedOnlyOnceEveryWorkerHasFinished() {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            AtomicBoolean slowFinished = new AtomicBoolean();
            IllegalStateException first = new IllegalStateException("first worker failed");
            Future<Double> fails = pool.submit(() -> {
                throw first;
            });
            Future<Double> slow = pool.submit(() -> {
                busy(300);
                slowFinished.set(true);
                throw new IllegalArgumentException("second worker failed too");
            });
            RuntimeException e = assertThrows(RuntimeException.class, () -> TrainingWorker.awaitAll(List.of(fails, slow)));
            assertTrue(slowFinished.get(), "awaitAll returned while a worker was still running");
            assertSame(first, e);
            assertEquals(1, e.getSuppressed().length);
            assertEquals("second worker failed too", e.getSuppressed()[0].getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void awaitAllReturnsTheResultsInOrder() {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Double> a = pool.submit(() -> {
                busy(50);
                return 1.0;
            });
            Future<Double> b = pool.submit(() -> 2.0);
            assertEquals(List.of(1.0, 2.0), TrainingWorker.awaitAll(List.of(a, b)));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closeWaitsForRunningWorkBeforeClosingTheWorkersArrays() throws InterruptedException {
        TrainingSettings settings = TrainingFixtures.lora(1, 1);
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters params = ModelParameters.load(Fixtures.hfTinyLlama(), root)) {
            params.prepare(settings.mode(), settings.memory().memoryLayer(), settings.lora(), settings.seed());
            Map<Integer, SlotMemory> memories = new HashMap<>();
            memories.put(0, null);
            TrainingWorker worker = new TrainingWorker(0, params, Trainer.forwardFor(params, settings), settings,
                    memories, 0);
            CountDownLatch started = new CountDownLatch(1);
            AtomicBoolean finished = new AtomicBoolean();
            worker.submit(() -> {
                started.countDown();
                busy(300);
                finished.set(true);
                return null;
            });
            started.await();
            worker.close();
            assertTrue(finished.get(), "close returned while the worker's thread was still running");
        }
    }
}
