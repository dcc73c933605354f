package dev.memlong.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory as the kernel counts it ({@code VmRSS} of {@code /proc/self/status}), with the Java
 * heap beside it, read after a full collection so that garbage does not count as growth.
 *
 * @param rssBytes           resident set size
 * @param heapUsedBytes      live Java heap after the collection
 * @param heapCommittedBytes Java heap the JVM has reserved from the OS (resident or not)
 */
record ResidentMemory(long rssBytes, long heapUsedBytes, long heapCommittedBytes) {

    private static final Path STATUS = Path.of("/proc/self/status");

    /**
     * Collects garbage, gives the JDK's cleaner thread a moment to free the native memory of unreachable direct
     * buffers (DJL copies every array it creates from Java through one), then reads the figures.
     */
    static ResidentMemory measure() {
        for (int i = 0; i < 2; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        return new ResidentMemory(currentRssBytes(), heap.getUsed(), heap.getCommitted());
    }

    /**
     * VmRSS in bytes, or -1 where {@code /proc/self/status} does not exist (not Linux): the report then shows
     * resident figures and their targets as not measured ({@link MemoryBenchReport#rssMeasured}).
     */
    static long currentRssBytes() {
        if (!Files.isReadable(STATUS)) {
            return -1;
        }
        try {
            return parseVmRss(Files.readString(STATUS));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + STATUS, e);
        }
    }

    /** The {@code VmRSS:  123456 kB} line of a {@code /proc/PID/status} text, in bytes. */
    static long parseVmRss(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
                if (parts.length != 2 || !parts[1].equals("kB")) {
                    throw new IllegalArgumentException("unexpected VmRSS line: " + line);
                }
                return Long.parseLong(parts[0]) * 1024;
            }
        }
        throw new IllegalArgumentException("no VmRSS line in the status text");
    }

    static double mb(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}
