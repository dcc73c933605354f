package dev.memlong.examples.cli;

import dev.memlong.examples.bench.BenchCheckpoint;
import dev.memlong.examples.bench.ModelShape;
import dev.memlong.examples.bench.TrainBenchChild;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Training step time and peak memory on the ~110M-parameter benchmark model, 512-token sequences: LoRA on the layers
 * above the memory layer vs full fine-tuning of those layers vs full fine-tuning of every layer. Each mode runs in
 * a child JVM so each peak resident set is its own.
 */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Training step time and peak memory: LoRA-upper vs full-upper vs full-all (110M model)")
final class BenchTrainCommand implements Callable<Integer> {

    @Option(names = "--json", description = "print one JSON object instead of the table") boolean json;
    @Option(names = "--data", defaultValue = "data", paramLabel = "DIR", description = "data directory (default ./data)") Path data;
    @Option(names = "--sequence", defaultValue = "512", description = "tokens per sequence, a multiple of 256 up to 2048 (default 512)") int sequence;
    @Option(names = "--steps", defaultValue = "3", description = "timed steps per mode after one warm-up (median reported, at least 1)") int steps;

    /** Lines of a failed child's stderr shown: its exception and the lines that led to it. */
    static final int STDERR_TAIL_LINES = 20;

    @Override
    public Integer call() throws Exception {
        TrainBenchChild.validate(sequence, steps); // before the checkpoint is built and any child starts
        Path dir = BenchCheckpoint.ensure(BenchCheckpoint.directory(data), ModelShape.llama110m(),
                dev.memlong.examples.bench.BenchPlan.standard().seed(), System.err::println);
        Map<String, double[]> results = new LinkedHashMap<>();
        for (String mode : List.of("lora", "full-upper", "full-all")) {
            System.err.println("bench train: " + mode + " ...");
            results.put(mode, child(mode, dir, System.err));
        }
        double[] lora = results.get("lora");
        double[] full = results.get("full-all");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", "llama-110m (random weights)");
        out.put("sequence", sequence);
        results.forEach((mode, r) -> out.put(mode, Map.of("step_seconds", r[0], "peak_rss_mib", r[1] / (1 << 20))));
        out.put("step_time_ratio_lora_vs_full", lora[0] / full[0]);
        out.put("peak_mem_ratio_lora_vs_full", lora[1] / full[1]);
        if (json) {
            Json.print(out);
        } else {
            System.out.printf("%-11s %12s %14s%n", "mode", "step (s)", "peak RSS (MiB)");
            results.forEach((mode, r) -> System.out.printf("%-11s %12.3f %14.0f%n", mode, r[0], r[1] / (1 << 20)));
            System.out.printf("LoRA / full-all: step time %.2fx, peak memory %.2fx (target <= 0.6x both)%n",
                    lora[0] / full[0], lora[1] / full[1]);
        }
        return 0;
    }

    /**
     * Runs one mode's child. Its stderr (native libraries' warnings on success) goes to a temporary file; when the
     * child fails, the last {@value #STDERR_TAIL_LINES} lines of it are relayed to {@code err}, which is where its
     * exception is.
     */
    double[] child(String mode, Path dir, PrintStream err) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true", "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                TrainBenchChild.class.getName(), mode, dir.toString(), String.valueOf(sequence), String.valueOf(steps)));
        Path stderr = Files.createTempFile("memlong-bench-train-", ".stderr");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
            String line;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                line = r.lines().reduce((a, b) -> b).orElse("");
            }
            int exit = p.waitFor();
            if (exit != 0 || line.isBlank()) {
                List<String> tail = lastLines(new String(Files.readAllBytes(stderr), StandardCharsets.UTF_8),
                        STDERR_TAIL_LINES);
                tail.forEach(l -> err.println("  " + mode + ": " + l));
                throw new IllegalStateException("bench train child for " + mode + " failed (exit " + exit + ")"
                        + (tail.isEmpty() ? ", nothing on its stderr" : "; the end of its stderr is above"));
            }
            String[] parts = line.trim().split(" ");
            return new double[] {Double.parseDouble(parts[0]), Double.parseDouble(parts[1])};
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    /** The last {@code n} non-blank lines of {@code text}. */
    static List<String> lastLines(String text, int n) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        return lines.subList(Math.max(0, lines.size() - n), lines.size());
    }
}
