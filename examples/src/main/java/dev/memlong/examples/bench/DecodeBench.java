package dev.memlong.examples.bench;

import ai.djl.pytorch.jni.JniUtils;
import dev.memlong.runtime.engine.Engines;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Runs {@code memlong bench decode} end to end: checkpoint, our runtime, Jlama in a child JVM, then the machine probes.
 *
 * @param dataDir  where the checkpoint is kept ({@code DATA/bench/llama-110m})
 * @param threads  PyTorch intra-op threads here and Jlama's thread count in the child
 * @param jlamaLib the Jlama jars; null skips Jlama
 */
public record DecodeBench(Path dataDir, int threads, BenchPlan plan, Path jlamaLib, Consumer<String> log) {

    /** Must run before anything else in this JVM starts PyTorch: the thread count is fixed at engine start. */
    public static void configureThreads(int threads) {
        System.setProperty("ai.djl.pytorch.num_threads", String.valueOf(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }

    /** {@code jlama-lib} beside memlong.jar (or beside target/classes): where the examples build copies Jlama. */
    public static Path defaultJlamaLib() {
        return JlamaChild.defaultJlamaLib();
    }

    public DecodeBenchReport run() {
        ModelShape shape = ModelShape.llama110m();
        Path dir = BenchCheckpoint.ensure(BenchCheckpoint.directory(dataDir), shape, plan.seed(), log);
        Engines.pytorch();
        int actual = JniUtils.getNumThreads();
        if (actual != threads) {
            throw new IllegalStateException("PyTorch runs " + actual + " threads, not " + threads
                    + " (it was started before the thread count was set)");
        }
        // No machine probe before the measurements: it runs our own decode kernel for seconds, which would warm this
        // JVM's JIT while Jlama starts cold in its child. Both sides get the plan's same time-based warm-up instead.
        log.accept("our runtime: prefill " + plan.prefillTokens() + " tokens, decode " + plan.decodeTokens() + " tokens ...");
        RunFigures ours = RuntimeBench.run(dir, plan, log);
        log.accept(String.format("  ours: prefill %.1f tok/s, decode %.1f tok/s", ours.prefillTokPerS(), ours.decodeTokPerS()));
        JlamaChild.Result jlama = null;
        String error = "skipped (--no-jlama)";
        if (jlamaLib != null) {
            try {
                jlama = JlamaChild.run(dir, threads, plan, jlamaLib, log);
                error = null;
                log.accept(String.format("  jlama: prefill %.1f tok/s, decode %.1f tok/s", jlama.figures().prefillTokPerS(),
                        jlama.figures().decodeTokPerS()));
            } catch (RuntimeException e) {
                error = e.getMessage();
                log.accept("Jlama was not measured: " + error);
            }
        }
        // probed twice after both measurements, keeping the higher figures: this machine's bandwidth moves between runs
        // (46-74 GB/s seen), and a ceiling from a slow moment would be beaten (see BatchingBench#probeAgain)
        MachineProbe.Result machine = null;
        for (int i = 0; i < 2; i++) {
            log.accept("measuring memory bandwidth and matmul throughput" + (i == 0 ? "" : " again") + " ...");
            MachineProbe.Result probe = MachineProbe.measure();
            log.accept(String.format("  %.1f GB/s, %.1f GFLOP/s", probe.bandwidthBytesPerS() / 1e9, probe.matmulFlopsPerS() / 1e9));
            machine = machine == null ? probe : machine.higher(probe);
        }
        return new DecodeBenchReport(shape, plan, threads, machine, ours, jlama, error);
    }
}
