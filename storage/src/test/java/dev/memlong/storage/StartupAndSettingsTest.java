package dev.memlong.storage;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class StartupAndSettingsTest {

    @TempDir
    Path dir;

    @Test
    void referenceDefaults() {
        StorageSettings s = StorageSettings.defaults();
        assertEquals(Path.of("./data/rocksdb"), s.path());
        assertTrue(s.fsync());
        assertEquals(256L << 20, s.kvCacheBytes());
    }

    @Test
    void overridesAndUnknownKeys() {
        StorageSettings s = StorageSettings.from(ConfigFactory.parseString(
                "memlong.storage { path = /x, fsync = false }"));
        assertEquals(Path.of("/x"), s.path());
        assertFalse(s.fsync());
        assertEquals(StorageSettings.defaults().kvCacheBytes(), s.kvCacheBytes(), "other keys keep their defaults");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StorageSettings.from(
                ConfigFactory.parseString("memlong.storage.capacity-token = 5")));
        assertTrue(e.getMessage().contains("memlong.storage.capacity-token"), e.getMessage());
    }

    @Test
    void theFormerCapacityAndEvictionKeysFailNamingTheMemoryKeysThatReplacedThem() {
        for (String key : List.of("capacity-tokens", "eviction")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StorageSettings.from(
                    ConfigFactory.parseString("memlong.storage." + key + " = 5000")));
            assertTrue(e.getMessage().contains("memlong.storage." + key)
                    && e.getMessage().contains("set memlong.memory." + key), e.getMessage());
        }
    }

    @Test
    void aRootThatIsNotABlockFailsNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StorageSettings.from(ConfigFactory.parseString("memlong.storage = \"x\"")));
        assertTrue(e.getMessage().contains("memlong.storage"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> StorageSettings.from(ConfigFactory.parseString("memlong.storage.fsync = maybe")));
        assertTrue(e.getMessage().contains("fsync"), e.getMessage());
    }

    @Test
    void pathThatIsAFileFailsClearly() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        StorageException e = assertThrows(StorageException.class,
                () -> ConversationStore.open(TestStores.settings(file.resolve("db"))));
        assertEquals(StorageException.Kind.STARTUP, e.kind());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void readOnlyDirectoryFailsClearlyNotHangs() throws Exception {
        assumeFalse("root".equals(System.getProperty("user.name")), "root ignores directory permissions");
        Path ro = Files.createDirectory(dir.resolve("ro"));
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            StorageException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () ->
                    assertThrows(StorageException.class, () -> ConversationStore.open(TestStores.settings(ro))));
            assertEquals(StorageException.Kind.STARTUP, e.kind());
            assertTrue(e.getMessage().contains("not writable"), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void fullDiskFailsClearly() {
        StorageException e = assertThrows(StorageException.class, () -> ConversationStore.open(
                TestStores.settings(dir).withMinFreeDiskBytes(Long.MAX_VALUE)));
        assertEquals(StorageException.Kind.STARTUP, e.kind());
        assertTrue(e.getMessage().contains("disk full"), e.getMessage());
    }

    @Test
    void secondOpenOfTheSameDirectoryFailsClearly() {
        try (ConversationStore first = TestStores.open(dir)) {
            StorageException e = assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () ->
                    assertThrows(StorageException.class, () -> TestStores.open(dir)));
            assertEquals(StorageException.Kind.STARTUP, e.kind());
            assertTrue(e.getMessage().contains("lock"), e.getMessage());
            assertEquals(0, first.conversations("t").size(), "the first store is unaffected");
        }
    }
}
