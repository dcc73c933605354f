package dev.memlong.examples.train;

import ai.djl.ndarray.NDManager;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.TrainedCheckpoint;
import dev.memlong.runtime.train.Trainer;
import dev.memlong.runtime.train.TrainingSettings;
import dev.memlong.runtime.train.TrainingState;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * One training run end to end: parameters (loaded or initialised), optional resume, the step loop with a progress
 * line and periodic checkpoints, then the trained model (merged or adapter) and the loss-curve PNG.
 */
public final class TrainingJob {

    /**
     * What to train and where to write it.
     *
     * @param parameters      opens the parameters to train (loaded from a base or freshly initialised)
     * @param baseDir         where config.json and tokenizer files come from (copied beside a merged model)
     * @param baseModel       the base model's id for metadata
     * @param steps           optimizer steps in all (a resumed run continues up to it)
     * @param outDir          the trained model
     * @param saveAdapter     write the adapter only instead of a merged model
     * @param dtype           safetensors dtype of a merged model
     * @param checkpointEvery steps between resumable checkpoints in {@code outDir/checkpoint} (0 = only at the end)
     * @param resumeFrom      a checkpoint directory to continue from, or null
     * @param dataDescription the data range, for metadata
     */
    public record Spec(Function<NDManager, ModelParameters> parameters, Path baseDir, String baseModel,
                       TrainingSettings settings, List<int[]> documents, int steps, Path outDir, boolean saveAdapter,
                       String dtype, int checkpointEvery, Path resumeFrom, String dataDescription) {}

    /** The run's outcome. */
    public record Result(int steps, double firstLoss, double finalLoss, long tokens, double seconds, Path lossPlot) {}

    private TrainingJob() {}

    /** A run stopped before its last step (Ctrl-C, SIGTERM) after saving a resumable checkpoint. */
    public static final class StoppedException extends RuntimeException {
        public StoppedException(String message) {
            super(message);
        }
    }

    /**
     * Runs the job. A shutdown of the JVM (Ctrl-C, SIGTERM) stops it cleanly: the step in flight finishes, a
     * checkpoint is saved, native resources are closed, and only then may the JVM exit (exiting while a worker was
     * inside PyTorch's backward crashed the JVM in libtorch).
     */
    public static Result run(Spec spec, Retriever retriever, TextTokenizer tokenizer, PrintStream progress)
            throws IOException {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.set(true);
            try {
                finished.await(120, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "memlong-train-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run(spec, retriever, tokenizer, progress, stop::get);
        } finally {
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it returns now that the job is done
            }
        }
    }

    /**
     * Runs the job until its last step or until {@code stopRequested} says so between two steps; a stopped run saves
     * its checkpoint and throws {@link StoppedException} (no model is written).
     */
    static Result run(Spec spec, Retriever retriever, TextTokenizer tokenizer, PrintStream progress,
                      java.util.function.BooleanSupplier stopRequested) throws IOException {
        TrainingSettings s = spec.settings();
        try (NDManager root = Engines.pytorch().newBaseManager();
             ModelParameters params = spec.parameters().apply(root)) {
            params.prepare(s.mode(), s.memory().memoryLayer(), s.lora(), s.seed());
            List<Double> losses = new ArrayList<>();
            long tokens = 0;
            int skipped = 0;
            long start = System.nanoTime();
            Path checkpoint = spec.outDir().resolve("checkpoint");
            try (Trainer trainer = new Trainer(params, s, spec.documents(), s.retrieval() ? retriever : null,
                    s.retrieval() ? tokenizer : null)) {
                if (spec.resumeFrom() != null) {
                    losses.addAll(TrainingState.restore(trainer, spec.resumeFrom()));
                }
                ProgressLine line = new ProgressLine(progress, trainer.step(), spec.steps());
                while (trainer.step() < spec.steps()) {
                    if (stopRequested.getAsBoolean()) {
                        line.finish();
                        TrainingState.save(trainer, checkpoint, losses);
                        throw new StoppedException("training stopped at step " + trainer.step() + " of " + spec.steps()
                                + "; checkpoint saved in " + checkpoint + " (continue with --resume)");
                    }
                    Trainer.StepResult r = trainer.trainStep();
                    if (r.skipped()) {
                        skipped++;
                    }
                    losses.add(r.loss());
                    tokens += r.tokens();
                    line.update(r.step(), r.loss(), r.lr(), r.tokens());
                    if (spec.checkpointEvery() > 0 && trainer.step() % spec.checkpointEvery() == 0
                            && trainer.step() < spec.steps()) {
                        TrainingState.save(trainer, checkpoint, losses);
                    }
                }
                line.finish();
                if (skipped > 0) {
                    progress.println(skipped + " step(s) skipped: non-finite loss or gradient");
                }
                TrainingState.save(trainer, checkpoint, losses);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, String> meta = metadata(spec, losses, tokens);
            if (spec.saveAdapter()) {
                TrainedCheckpoint.writeAdapter(params, spec.outDir(), spec.baseModel(), meta);
            } else {
                TrainedCheckpoint.writeMerged(params, spec.outDir(), spec.baseDir(), spec.dtype(), meta);
            }
            Path png = spec.outDir().resolve("loss.png");
            if (!losses.isEmpty()) {
                LossPlot.write(png, losses, "memlong train: " + s.mode().name().toLowerCase(Locale.ROOT)
                        + (s.retrieval() ? " with retrieval" : s.memoryGradients() ? " with in-graph memory" : " without memory"));
            }
            return new Result(losses.size(), losses.isEmpty() ? Double.NaN : losses.get(0),
                    losses.isEmpty() ? Double.NaN : tail(losses), tokens, seconds, png);
        }
    }

    /** Mean of the last 10% of the losses (at least one). */
    static double tail(List<Double> losses) {
        int n = Math.max(1, losses.size() / 10);
        return losses.subList(losses.size() - n, losses.size()).stream().mapToDouble(Double::doubleValue).average()
                .orElse(Double.NaN);
    }

    private static Map<String, String> metadata(Spec spec, List<Double> losses, long tokens) {
        TrainingSettings s = spec.settings();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("base_model", spec.baseModel());
        meta.put("training_mode", s.mode().name().toLowerCase(Locale.ROOT));
        meta.put("memory_layer", String.valueOf(s.memory().memoryLayer()));
        meta.put("retrieval_layers", s.memory().retrievalLayers().toString());
        meta.put("retrieval_in_training", String.valueOf(s.retrieval()));
        meta.put("chunk_size", String.valueOf(s.memory().chunkSize()));
        meta.put("data_range", spec.dataDescription());
        meta.put("seed", String.valueOf(s.seed()));
        meta.put("metrics", String.format(Locale.ROOT, "{\"steps\":%d,\"tokens_this_run\":%d,\"first_loss\":%.4f,"
                + "\"final_loss\":%.4f}", losses.size(), tokens, losses.isEmpty() ? Double.NaN : losses.get(0),
                losses.isEmpty() ? Double.NaN : tail(losses)));
        if (s.lora() != null && s.mode() == dev.memlong.runtime.train.TrainingMode.LORA_UPPER) {
            meta.put("lora", "r=" + s.lora().rank() + ",alpha=" + s.lora().alpha() + ",dropout=" + s.lora().dropout());
        }
        return meta;
    }

    static void ensureDir(Path dir) throws IOException {
        Files.createDirectories(dir);
    }
}
