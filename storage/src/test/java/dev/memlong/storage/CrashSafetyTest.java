package dev.memlong.storage;

import dev.memlong.storage.bench.CrashLoop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SIGKILLs a child JVM committing turns at random moments; the benchmark runs the same loop 100 times. */
class CrashSafetyTest {

    @TempDir
    Path dir;

    @Test
    void acknowledgedTurnsSurviveKillNineAndNoChunkIsHalfWritten() throws Exception {
        CrashLoop.Result r = CrashLoop.run(dir, 3, System.nanoTime(), 100, 600);
        System.out.println("crash loop: " + r);
        assertEquals(3, r.iterations());
        assertTrue(r.acknowledgedTurns() > 0, "the child acknowledged nothing");
        assertTrue(r.ok(), r.toString());
    }
}
