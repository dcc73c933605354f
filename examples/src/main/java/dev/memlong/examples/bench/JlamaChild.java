package dev.memlong.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs Jlama's side of the benchmark in a child JVM: the same {@code java} binary, the flags Jlama needs
 * ({@code --add-modules jdk.incubator.vector}, native access for jlama-native), and a class path of ours plus the
 * Jlama jars in {@code target/jlama-lib}, kept apart from our own {@code target/lib}. Its stderr is passed through as
 * progress; its stdout carries one JSON object, parsed here.
 */
final class JlamaChild {

    /** Jlama's figures and what it reported about itself. */
    record Result(RunFigures figures, JsonNode details) {}

    private static final String MAIN = "dev.memlong.examples.bench.jlama.JlamaBenchMain";
    private static final long TIMEOUT_MINUTES = 30;

    private JlamaChild() {}

    /**
     * The directory holding the Jlama jars: {@code jlama-lib} beside our class path's jar or classes directory
     * (so {@code examples/target/jlama-lib} for both {@code memlong.jar} and {@code target/classes}).
     */
    static Path defaultJlamaLib() {
        String first = System.getProperty("java.class.path").split(File.pathSeparator)[0];
        Path p = Path.of(first).toAbsolutePath();
        return p.getParent().resolve("jlama-lib");
    }

    static Result run(Path modelDir, int threads, BenchPlan plan, Path jlamaLib, Consumer<String> log) {
        if (!Files.isDirectory(jlamaLib)) {
            throw new IllegalStateException("no Jlama jars in " + jlamaLib + " (built by `mvn package` in examples; "
                    + "or pass --jlama-lib DIR)");
        }
        List<String> cmd = command(modelDir, threads, plan, jlamaLib);
        log.accept("starting Jlama in a child JVM (" + threads + " threads)");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            p.getOutputStream().close();
            String json = lastJsonLine(p);
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("the Jlama child did not finish in " + TIMEOUT_MINUTES + " minutes");
            }
            if (p.exitValue() != 0 || json == null) {
                throw new IllegalStateException("the Jlama child failed (exit " + p.exitValue() + "); see its stderr above");
            }
            return parse(new ObjectMapper().readTree(json), plan);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run the Jlama child: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while Jlama ran", e);
        }
    }

    static List<String> command(Path modelDir, int threads, BenchPlan plan, Path jlamaLib) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("java.class.path") + File.pathSeparator + jlamaLib.toAbsolutePath() + File.separator + "*";
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Xmx4g", "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0",
                "-Dorg.slf4j.simpleLogger.logFile=System.err", "-cp", classPath, MAIN,
                modelDir.toAbsolutePath().toString(), String.valueOf(threads)));
        cmd.addAll(List.of(plan.toArgs()));
        return cmd;
    }

    private static String lastJsonLine(Process p) throws IOException {
        String json = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("{")) {
                    json = line;
                } else if (!line.isBlank()) {
                    System.err.println("  jlama(stdout): " + line);
                }
            }
        }
        return json;
    }

    private static Result parse(JsonNode root, BenchPlan plan) {
        double[] prefill = doubles(root.get("prefill_seconds"));
        double[] steps = doubles(root.get("step_seconds"));
        if (root.path("prefill_tokens").asInt() != plan.prefillTokens() || steps.length != plan.decodeTokens()) {
            throw new IllegalStateException("the Jlama child ran another plan: " + root);
        }
        ((com.fasterxml.jackson.databind.node.ObjectNode) root).remove(List.of("prefill_seconds", "step_seconds"));
        return new Result(RunFigures.of(plan.prefillTokens(), prefill, steps), root);
    }

    private static double[] doubles(JsonNode array) {
        double[] d = new double[array.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = array.get(i).asDouble();
        }
        return d;
    }
}
