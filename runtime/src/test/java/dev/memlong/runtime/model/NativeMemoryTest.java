package dev.memlong.runtime.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.memlong.runtime.testing.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Per-step intermediates must be released every step: nothing grows over 1,000 decode steps, on either path. */
class NativeMemoryTest {

    /** The tensor path: every forward's intermediates are NDArrays, released by its NDScope. */
    @Test
    void thousandDecodeStepsDoNotGrowLiveArraysOrResidentMemory() throws IOException {
        try (LlamaModel model = LlamaModel.load(Fixtures.hfTinyLlama())) {
            model.useJavaDecode(false);
            decodeSteps(model, 0);
        }
    }

    /**
     * The Java decode step allocates no native memory (it borrows the tensors' memory), but its first few hundred
     * steps compile its vector kernels, and the JIT's code and arenas live outside the heap too: the readings start
     * after a longer warm-up.
     */
    @Test
    void javaDecodeStepsDoNotGrowLiveArraysOrResidentMemory() throws IOException {
        try (LlamaModel model = LlamaModel.load(Fixtures.hfTinyLlama())) {
            assumeTrue(model.javaDecode(), "Java decode step not available here");
            decodeSteps(model, 1000);
        }
    }

    private static void decodeSteps(LlamaModel model, int warmUp) throws IOException {
        int before = model.liveArrays();
        try (KvCachePool cache = model.newCache(2, 1100 + warmUp)) {
            int withCache = model.liveArrays();
            model.forward(cache, List.of(new SequenceStep(0, new int[] {1, 2, 3}), new SequenceStep(1, new int[] {4})), false);
            int afterFirst = model.liveArrays();
            long early = Long.MAX_VALUE;
            long late = Long.MAX_VALUE;
            for (int i = 0; i < warmUp + 1000; i++) {
                int step = i - warmUp;
                int token = 7 + i % 500;
                model.forward(cache, List.of(new SequenceStep(0, new int[] {token}), new SequenceStep(1, new int[] {token})), false);
                // minimum of several readings: robust to the Java heap's own breathing
                if (step >= 100 && step < 400 && step % 50 == 0) {
                    early = Math.min(early, nativeKb());
                }
                if (step >= 700 && step % 50 == 0) {
                    late = Math.min(late, nativeKb());
                }
            }
            assertEquals(withCache, afterFirst, "a forward left arrays behind");
            assertEquals(withCache, model.liveArrays(), "live arrays grew over 1,000 decode steps");
            long growthKb = late - early;
            // The live-array count above is the exact check; resident memory is a coarse second one against
            // native leaks outside DJL's bookkeeping.
            assertTrue(growthKb < 24 * 1024, "native resident memory grew by " + growthKb + " KiB over 600 steps");
            assertEquals(1003 + warmUp, cache.length(0));
        }
        assertEquals(before, model.liveArrays(), "closing the cache released its arrays");
    }

    /** Resident memory outside the Java heap, after a GC: what a native leak would grow. */
    private static long nativeKb() throws IOException {
        System.gc();
        return residentKb() - Runtime.getRuntime().totalMemory() / 1024;
    }

    private static long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
