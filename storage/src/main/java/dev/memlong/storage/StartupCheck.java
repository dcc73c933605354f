package dev.memlong.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Checks the store directory before RocksDB sees it, so a read-only directory or a full disk is a clear
 * {@link StorageException.Kind#STARTUP} error rather than an obscure RocksDB failure (or a hang).
 */
final class StartupCheck {

    private static final String PROBE = ".memlong-write-probe";

    private StartupCheck() {}

    static void check(Path dir, long minFreeBytes) {
        Path abs = dir.toAbsolutePath();
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw fail("cannot create the store directory " + abs + ": " + e, e);
        }
        if (!Files.isDirectory(abs)) {
            throw fail("the store path " + abs + " is not a directory", null);
        }
        Path probe = abs.resolve(PROBE);
        try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.allocate(4096));
            ch.force(true);
        } catch (IOException e) {
            throw fail("the store directory " + abs + " is not writable (read-only or disk full): " + e, e);
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException ignored) {
                // the probe is harmless if it stays
            }
        }
        try {
            long free = Files.getFileStore(abs).getUsableSpace();
            if (free < minFreeBytes) {
                throw fail("disk full: only " + free + " bytes free for the store at " + abs
                        + ", memlong.storage.min-free-disk-bytes requires " + minFreeBytes, null);
            }
        } catch (IOException e) {
            throw fail("cannot read the free space of " + abs + ": " + e, e);
        }
    }

    private static StorageException fail(String detail, Throwable cause) {
        return new StorageException(StorageException.Kind.STARTUP, detail, cause);
    }
}
