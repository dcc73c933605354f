package dev.memlong.runtime.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

/**
 * Trains a model's parameters: each optimizer step runs {@code accumulation} micro-batches of {@code batchSlots}
 * consecutive segments (one per slot), split between the data-parallel workers; the workers' gradients are summed,
 * clipped by global norm and applied with AdamW at the schedule's learning rate.
 *
 * <p>With retrieval on, each slot's segment first retrieves from the slot's memory (chunks of the same document
 * read earlier, memory-layer K/V detached), and after the step its own chunks are stored there.
 *
 * <p>Deterministic for a seed: the same data and settings give the same parameters, whatever the worker count
 * (within float rounding, since the batch is reduced in a different order).
 */
public final class Trainer implements AutoCloseable {

    /**
     * What one optimizer step did.
     *
     * @param step     0-based optimizer step just taken
     * @param loss     mean next-token cross-entropy over the step's targets
     * @param lr       learning rate used
     * @param gradNorm global gradient norm before clipping
     * @param tokens   targets the loss was computed on
     * @param seconds  wall time of the step
     * @param skipped  the loss or the gradient was not finite, so the parameters were left unchanged
     */
    public record StepResult(int step, double loss, double lr, double gradNorm, long tokens, double seconds,
                             boolean skipped) {}

    private final ModelParameters params;
    private final TrainingSettings settings;
    private final SlotStreams streams;
    private final List<TrainingWorker> workers = new ArrayList<>();
    private final AdamW optimizer;
    private int step;

    /**
     * @param params    parameters already {@link ModelParameters#prepare prepared} for {@code settings.mode()}
     * @param retriever the frozen retriever (needed with retrieval on; shared, not owned)
     * @param tokenizer decodes chunk and query texts for the retriever (needed with retrieval on; not owned)
     */
    public Trainer(ModelParameters params, TrainingSettings settings, List<int[]> documents, Retriever retriever,
                   TextTokenizer tokenizer) {
        this(params, settings, documents, retriever, tokenizer, 0);
    }

    /**
     * @param intraOpThreads PyTorch intra-op threads of each worker thread (a per-thread setting, so the
     *                       trainer's share of the CPU can be bounded while other threads keep theirs), or 0 to
     *                       leave the process default
     */
    public Trainer(ModelParameters params, TrainingSettings settings, List<int[]> documents, Retriever retriever,
                   TextTokenizer tokenizer, int intraOpThreads) {
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException("intra-op threads must not be negative, got " + intraOpThreads);
        }
        if (params.trainableNames().isEmpty()) {
            throw new IllegalArgumentException("no trainable parameters: call ModelParameters.prepare first");
        }
        if (settings.retrieval() && (retriever == null || tokenizer == null)) {
            throw new IllegalArgumentException("training with retrieval needs a retriever and a tokenizer");
        }
        this.params = params;
        this.settings = settings;
        this.streams = new SlotStreams(documents, settings.batchSlots(), settings.segmentLength());
        TrainingForward forward = forwardFor(params, settings);
        int n = settings.workers();
        for (int w = 0; w < n; w++) {
            Map<Integer, SlotMemory> memories = new LinkedHashMap<>();
            for (int s = w * settings.batchSlots() / n; s < (w + 1) * settings.batchSlots() / n; s++) {
                memories.put(s, settings.retrieval() ? new SlotMemory(settings.memory(), retriever, tokenizer,
                        params.config().numKvHeads(), params.config().headDim()) : null);
            }
            workers.add(new TrainingWorker(w, params, forward, settings, memories, intraOpThreads));
        }
        this.optimizer = new AdamW(params.manager(), params.trainableNames(), params, settings.beta1(),
                settings.beta2(), settings.epsilon(), settings.weightDecay());
    }

    /** The training forward for a model's parameters and MemLong layers. */
    public static TrainingForward forwardFor(ModelParameters params, TrainingSettings settings) {
        int m = settings.memory().memoryLayer();
        return new TrainingForward(params.config(), m,
                settings.memory().retrievalLayers().stream().mapToInt(Integer::intValue).toArray(), params.lora(), m + 1);
    }

    public int step() {
        return step;
    }

    public ModelParameters parameters() {
        return params;
    }

    public TrainingSettings settings() {
        return settings;
    }

    /** Data position, for checkpoints. */
    public SlotStreams streams() {
        return streams;
    }

    /** Runs one optimizer step. */
    public StepResult trainStep() {
        long start = System.nanoTime();
        int slots = settings.batchSlots();
        List<List<SlotStreams.Piece>> micro = new ArrayList<>();
        long targets = 0;
        double weights = 0;
        for (int k = 0; k < settings.accumulation(); k++) {
            List<SlotStreams.Piece> pieces = new ArrayList<>(slots);
            for (int s = 0; s < slots; s++) {
                SlotStreams.Piece p = streams.next(s);
                targets += p.targetCount();
                weights += settings.targetWeights().sum(p.targets());
                pieces.add(p);
            }
            micro.add(pieces);
        }
        double normalizer = Math.max(1, weights); // the weighted mean (with no weights, the target count)
        List<Future<Double>> runs = new ArrayList<>();
        for (TrainingWorker w : workers) {
            List<Integer> mine = w.slots();
            int currentStep = step;
            runs.add(w.submit(() -> {
                w.beginStep();
                double sum = 0;
                for (int k = 0; k < micro.size(); k++) {
                    List<SlotStreams.Piece> share = new ArrayList<>();
                    for (SlotStreams.Piece p : micro.get(k)) {
                        if (mine.contains(p.slot())) {
                            share.add(p);
                        }
                    }
                    sum += w.microBatch(share, normalizer, currentStep, k);
                }
                return sum;
            }));
        }
        double lossSum = 0;
        for (double workerLoss : TrainingWorker.awaitAll(runs)) {
            lossSum += workerLoss;
        }
        double lr = settings.schedule().at(step);
        double norm;
        boolean skipped;
        try (NDManager sm = params.manager().newSubManager()) {
            Map<String, NDArray> grads = new LinkedHashMap<>();
            for (String name : params.trainableNames()) {
                grads.put(name, sm.zeros(params.get(name).getShape()));
            }
            for (TrainingWorker w : workers) {
                for (Map.Entry<String, NDArray> g : w.gradients().entrySet()) {
                    grads.get(g.getKey()).addi(g.getValue());
                    g.getValue().close();
                }
            }
            double sq = 0;
            for (NDArray g : grads.values()) {
                sq += g.square().sum().getFloat();
            }
            norm = Math.sqrt(sq);
            skipped = !Double.isFinite(norm) || !Double.isFinite(lossSum);
            if (!skipped) {
                double scale = settings.clipNorm() > 0 && norm > settings.clipNorm() ? settings.clipNorm() / norm : 1;
                optimizer.step(params, grads, lr, scale);
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new StepResult(step++, lossSum / normalizer, lr, norm, targets, seconds, skipped);
    }

    /** AdamW state, for checkpoints. */
    AdamW optimizer() {
        return optimizer;
    }

    /** Continues counting from a checkpoint's step. */
    void restoreStep(int restored) {
        this.step = restored;
    }

    @Override
    public void close() {
        workers.forEach(TrainingWorker::close);
        optimizer.close();
    }
}
