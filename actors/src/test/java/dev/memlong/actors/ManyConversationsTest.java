package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 conversations, each used once, fit in a 1 GiB heap: {@link ManyConversations} runs them in a child JVM
 * started with {@code -Xmx1g} (the same java and the test classpath). Every conversation stays active (the idle
 * timeout is longer than the run), which is the harder case: passivated conversations hold no heap at all.
 */
class ManyConversationsTest {

    static final int CONVERSATIONS = 10_000;

    @Test
    void tenThousandConversationsUsedOnceFitInAOneGigabyteHeap(@TempDir Path data) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx1g", "-XX:+UseSerialGC",
                "-XX:+HeapDumpOnOutOfMemoryError", "-XX:HeapDumpPath=" + data.resolve("oom.hprof"),
                "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
                "-Dmemlong.fixtures=" + TestRuntimes.model().getParent(),
                "-cp", System.getProperty("java.class.path"), ManyConversations.class.getName(),
                data.resolve("store").toString(), String.valueOf(CONVERSATIONS), "64", "10m"));
        Path log = data.resolve("child.log");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean exited = child.waitFor(4, TimeUnit.MINUTES);
        if (!exited) {
            child.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(exited, "the child finished in 4 minutes:\n" + tail(output));
        assertEquals(0, child.exitValue(), "every turn succeeded within -Xmx1g:\n" + tail(output));
        Map<String, String> figures = figures(output);
        assertEquals(String.valueOf(CONVERSATIONS), figures.get("active"), "all of them are still active");
        long used = Long.parseLong(figures.get("heap_used_bytes"));
        System.out.printf("10,000 active conversations: %.1f MiB heap after GC (%.1f KiB each), %s s%n",
                used / 1048576.0, used / 1024.0 / CONVERSATIONS, figures.get("seconds"));
        assertTrue(used < 1L << 30, "heap after GC: " + used);
    }

    private static Map<String, String> figures(String output) {
        Map<String, String> m = new HashMap<>();
        for (String line : output.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0 && line.substring(0, eq).matches("[a-z_]+")) {
                m.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        return m;
    }

    private static String tail(String output) throws IOException {
        return output.length() > 4000 ? output.substring(output.length() - 4000) : output;
    }
}
