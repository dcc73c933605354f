package dev.memlong.storage.bench;

import dev.memlong.memory.MemoryChunk;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.IntegrityReport;
import dev.memlong.storage.RocksMemoryBank;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.Turn;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Crash safety, end to end: starts {@link CrashChild} in a child JVM, kills it with SIGKILL at a random moment
 * after it acknowledged its first turn, reopens the store and checks every acknowledged turn is present and
 * complete and no chunk is half-written or corrupt. Repeats on the same store.
 */
public final class CrashLoop {

    /**
     * The outcome of a crash loop.
     *
     * @param iterations         kills survived
     * @param acknowledgedTurns  turns the children reported as committed
     * @param lostTurns          acknowledged turns missing or incomplete after reopening (must be 0)
     * @param halfWrittenTurns   commits of which only some messages are stored (must be 0)
     * @param halfWrittenChunks  chunks missing one of metadata, K/V, embedding, or with counters off (must be 0)
     * @param corruptChunks      chunks whose stored bytes differ from what was written (must be 0)
     */
    public record Result(int iterations, long acknowledgedTurns, long lostTurns, long halfWrittenTurns,
                         long halfWrittenChunks, long corruptChunks) {
        public boolean ok() {
            return lostTurns == 0 && halfWrittenTurns == 0 && halfWrittenChunks == 0 && corruptChunks == 0;
        }
    }

    private record Ack(String run, long n, long userSeq, long replySeq) {}

    private CrashLoop() {}

    /**
     * Runs {@code iterations} kill-and-verify rounds on a store in {@code dir}.
     *
     * @param minRunMs shortest time a child runs after its first acknowledgement before it is killed
     * @param maxRunMs longest such time
     */
    public static Result run(Path dir, int iterations, long seed, int minRunMs, int maxRunMs)
            throws IOException, InterruptedException {
        Path store = dir.resolve("store");
        Path natives = extractNativeLibrary(dir.resolve("native"));
        SplittableRandom random = new SplittableRandom(seed);
        List<Ack> acks = new ArrayList<>();
        long lost = 0, halfTurns = 0, halfChunks = 0, corrupt = 0;
        for (int i = 0; i < iterations; i++) {
            acks.addAll(runChild(store, natives, "r" + i, minRunMs + random.nextInt(maxRunMs - minRunMs + 1)));
            Result r = verify(store, acks);
            lost = r.lostTurns();
            halfTurns += r.halfWrittenTurns();
            halfChunks += r.halfWrittenChunks();
            corrupt += r.corruptChunks();
        }
        return new Result(iterations, acks.size(), lost, halfTurns, halfChunks, corrupt);
    }

    private static List<Ack> runChild(Path store, Path natives, String run, int runMs)
            throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1"));
        if (natives != null) {
            cmd.add("-Djava.library.path=" + natives); // no per-child extraction left behind by SIGKILL
        }
        cmd.addAll(List.of("-cp", childClassPath(), CrashChild.class.getName(),
                store.toString(), run));
        Process child = new ProcessBuilder(cmd)
                .redirectError(store.resolveSibling("child-" + run + ".err").toFile()).start();
        List<Ack> acks = new ArrayList<>();
        CountDownLatch first = new CountDownLatch(1);
        Thread reader = Thread.ofPlatform().daemon().start(() -> readAcks(child.getInputStream(), acks, first));
        try {
            if (!first.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("crash child " + run + " acknowledged nothing in 120 s; see "
                        + store.resolveSibling("child-" + run + ".err"));
            }
            Thread.sleep(runMs);
        } finally {
            child.destroyForcibly(); // SIGKILL on Linux
            child.waitFor();
            reader.join(10_000);
        }
        synchronized (acks) {
            return new ArrayList<>(acks);
        }
    }

    /**
     * The child's class path: this JVM's entries made absolute, followed by the {@code Class-Path} entries of
     * their jar manifests (memlong.jar's {@code lib/*.jar}, surefire's booter jar), resolved against the jar's
     * directory. So the child finds {@link CrashChild} and its dependencies whether this JVM was started with
     * {@code -cp} or {@code -jar}, and whatever the child's working directory.
     */
    static String childClassPath() {
        Set<String> entries = new LinkedHashSet<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            Path path = Path.of(entry).toAbsolutePath().normalize();
            entries.add(path.toString());
            if (Files.isRegularFile(path) && path.getFileName().toString().endsWith(".jar")) {
                entries.addAll(manifestClassPath(path));
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static List<String> manifestClassPath(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            String classPath = manifest == null ? null
                    : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (classPath == null || classPath.isBlank()) {
                return List.of();
            }
            URI base = jar.getParent().toUri();
            List<String> out = new ArrayList<>();
            for (String url : classPath.trim().split("\\s+")) {
                out.add(Path.of(base.resolve(url)).toString()); // relative URLs, or absolute file: URLs
            }
            return out;
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot read the class path of " + jar + " for the crash child: "
                    + e.getMessage(), e);
        }
    }

    private static void readAcks(InputStream in, List<Ack> acks, CountDownLatch first) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                String[] p = line.split(" ");
                if (p.length == 5 && p[0].equals("ACK")) { // a line cut by the kill is not an acknowledgement
                    synchronized (acks) {
                        acks.add(new Ack(p[1], Long.parseLong(p[2]), Long.parseLong(p[3]), Long.parseLong(p[4])));
                    }
                    first.countDown();
                }
            }
        } catch (IOException | RuntimeException e) {
            // the pipe breaks when the child is killed
        }
    }

    /** Reopens the store and checks it against every acknowledgement so far. */
    static Result verify(Path store, List<Ack> acks) {
        SyntheticChunks chunks = new SyntheticChunks(CrashChild.LAYOUT, CrashChild.CHUNK_TOKENS);
        try (ConversationStore s = ConversationStore.open(StorageSettings.defaults().withPath(store))) {
            Map<Long, Turn> turns = new HashMap<>();
            List<Turn> history = s.history(CrashChild.KEY);
            history.forEach(t -> turns.put(t.seq(), t));
            long lost = acks.stream().filter(a -> !present(turns, a)).count();
            long halfTurns = 0;
            for (int i = 0; i < history.size(); i += 2) {
                String user = history.get(i).text();
                String reply = i + 1 < history.size() ? history.get(i + 1).text() : "";
                if (!user.startsWith("user ") || !reply.equals("reply " + user.substring(5))) {
                    halfTurns++;
                }
            }
            IntegrityReport integrity = s.checkIntegrity(CrashChild.KEY);
            long half = integrity.incompleteSeqs().size() + (integrity.ok() ? 0 : 1);
            long corrupt = 0;
            try (RocksMemoryBank bank = s.activate(CrashChild.KEY)) {
                for (MemoryChunk c : bank.fetch(bank.seqs())) {
                    if (!chunks.matches(c.tokenIds(), c.text(), c.embedding(), c.keys(), c.values())) {
                        corrupt++;
                    }
                }
            }
            return new Result(0, acks.size(), lost, halfTurns, half, corrupt);
        }
    }

    private static boolean present(Map<Long, Turn> turns, Ack a) {
        Turn u = turns.get(a.userSeq());
        Turn r = turns.get(a.replySeq());
        return u != null && r != null && u.text().equals(CrashChild.userText(a.run(), a.n()))
                && r.text().equals(CrashChild.replyText(a.run(), a.n()));
    }

    /** Copies RocksDB's JNI library out of its jar once, for the children's java.library.path; null if absent. */
    private static Path extractNativeLibrary(Path dir) throws IOException {
        String name = org.rocksdb.util.Environment.getJniLibraryFileName("rocksdb");
        try (InputStream in = org.rocksdb.RocksDB.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                return null;
            }
            Files.createDirectories(dir);
            Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            return dir;
        }
    }
}
