package dev.memlong.runtime.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.memlong.runtime.config.ModelConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * One data-parallel training worker: its own thread, its own replica of the trainable parameters (frozen ones are
 * shared read-only), and the memory of the batch slots it serves. Gradients of its micro-batches accumulate in its
 * replica; the {@link Trainer} sums them over workers.
 *
 * <p>Autograd runs through PyTorch directly ({@code JniUtils}): DJL's {@code PtGradientCollector} admits one
 * collector per JVM (a static flag), while PyTorch's grad mode is per thread, so each worker thread enables it for
 * itself and calls backward on its own loss.
 */
final class TrainingWorker implements AutoCloseable {

    private final int index;
    private final ModelParameters params;
    private final TrainingForward forward;
    private final TrainingSettings settings;
    private final NDManager manager;
    private final ExecutorService thread;
    private final Map<String, NDArray> replica = new LinkedHashMap<>();
    private final Map<Integer, SlotMemory> memories;
    /** Per slot: its latest segments of the current document, oldest first (in-graph memory). */
    private final Map<Integer, java.util.ArrayDeque<SlotStreams.Piece>> previous = new HashMap<>();

    TrainingWorker(int index, ModelParameters params, TrainingForward forward, TrainingSettings settings,
                   Map<Integer, SlotMemory> memories, int intraOpThreads) {
        this.index = index;
        this.params = params;
        this.forward = forward;
        this.settings = settings;
        this.memories = memories;
        this.manager = params.manager().newSubManager();
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(() -> {
                JniUtils.setGradMode(true);
                if (intraOpThreads > 0) {
                    JniUtils.setNumThreads(intraOpThreads);
                }
                r.run();
            }, "memlong-train-worker-" + index);
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs work on this worker's thread. */
    <T> Future<T> submit(java.util.concurrent.Callable<T> work) {
        return thread.submit(work);
    }

    /**
     * Waits for every future, even after one has failed or this thread is interrupted: returning early would let
     * the caller close arrays (a step's gradients, the parameters) that another worker's forward or backward still
     * reads, which crashes libtorch rather than failing cleanly. A worker's share of a step always finishes.
     *
     * @return the results, in order
     * @throws RuntimeException the first failure, with the others {@linkplain Throwable#addSuppressed suppressed}
     */
    static <T> List<T> awaitAll(List<Future<T>> futures) {
        List<T> results = new ArrayList<>(futures.size());
        RuntimeException failure = null;
        boolean interrupted = false;
        for (Future<T> f : futures) {
            while (true) {
                try {
                    results.add(f.get());
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // keep waiting; the flag is restored below
                } catch (ExecutionException e) {
                    RuntimeException cause = e.getCause() instanceof RuntimeException r ? r
                            : new IllegalStateException("training worker failed", e.getCause());
                    if (failure == null) {
                        failure = cause;
                    } else {
                        failure.addSuppressed(cause);
                    }
                    results.add(null);
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            if (failure == null) {
                failure = new IllegalStateException("interrupted while training");
            }
        }
        if (failure != null) {
            throw failure;
        }
        return results;
    }

    /** Copies the current trainable values into a fresh replica (new autograd leaves, no gradient yet). */
    void beginStep() {
        for (NDArray a : replica.values()) {
            a.close();
        }
        replica.clear();
        for (String name : params.trainableNames()) {
            NDArray copy = params.get(name).duplicate();
            copy.attach(manager);
            copy.setRequiresGradient(true);
            replica.put(name, copy);
        }
    }

    private NDArray lookup(String name) {
        String key = params.tiedEmbeddings() && name.equals(ParameterNames.LM_HEAD) ? ParameterNames.EMBEDDING : name;
        NDArray r = replica.get(key);
        return r != null ? r : params.get(key);
    }

    /**
     * Forward and backward of this worker's share of one micro-batch; the loss is divided by {@code normalizer}
     * (the target count of the whole optimizer step over every worker), so summed gradients are the mean's.
     *
     * @return the summed (undivided) cross-entropy of these pieces
     */
    double microBatch(List<SlotStreams.Piece> pieces, double normalizer, int step, int micro) {
        if (pieces.isEmpty()) {
            return 0;
        }
        ModelConfig c = params.config();
        int b = pieces.size();
        int t = settings.segmentLength();
        long[] tokens = new long[b * t];
        long[] targets = new long[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(pieces.get(i).tokens(), 0, tokens, i * t, t);
            System.arraycopy(pieces.get(i).targets(), 0, targets, i * t, t);
        }
        try (NDManager m = manager.newSubManager(); NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            SegmentMemory memory = null;
            if (settings.retrieval()) {
                float[][][] keys = new float[b][][];
                float[][][] values = new float[b][][];
                int[][] starts = new int[b][];
                for (int i = 0; i < b; i++) {
                    SlotMemory mem = memories.get(pieces.get(i).slot());
                    if (pieces.get(i).newDocument()) {
                        mem.clear();
                    }
                    SlotMemory.Retrieved r = mem.retrieve(pieces.get(i).realTokens());
                    keys[i] = r.keys();
                    values[i] = r.values();
                    starts[i] = r.starts();
                }
                memory = SegmentMemory.perPiece(m, keys, values, starts, c.numKvHeads(), c.headDim());
            }
            if (settings.memoryGradients()) {
                memory = previousSegments(m, pieces, step, micro);
            }
            float bias = (float) settings.memoryScoreBiasAt(step);
            if (memory != null && bias > 0) {
                memory = memory.withScoreBias(bias);
            }
            TrainingForward.Input in = new TrainingForward.Input(tokens, b, t, settings.firstPosition(step, micro), memory,
                    dropout(pieces, step, micro));
            TrainingForward.Output out = forward.forward(this::lookup, m, in);
            NDArray lossSum = TrainingForward.crossEntropySum(m, out.logits(), targets, settings.targetWeights());
            NDArray loss = lossSum.div(TrainingForward.scalar(m, (float) normalizer)); // see scalar(): no Number overloads
            JniUtils.backward((PtNDArray) loss, (PtNDArray) m.ones(loss.getShape()), false, false);
            double sum = lossSum.getFloat();
            if (settings.retrieval()) {
                storeMemory(pieces, out, t);
            }
            return sum;
        }
    }

    /**
     * In-graph memory: each slot's previous {@code memorySegments} segments of the same document, forwarded again
     * through the layers up to the memory layer without memory of their own, their memory-layer K/V kept in the graph
     * (their loss is not counted: it was when each was current). Row {@code i} of the memory holds its segments oldest
     * first; all but a document's last segment are full, so the first {@code tokens[i]} columns are the valid ones.
     */
    private SegmentMemory previousSegments(NDManager m, List<SlotStreams.Piece> pieces, int step, int micro) {
        int b = pieces.size();
        int t = settings.segmentLength();
        int n = settings.memorySegments();
        long[] tokens = new long[b * n * t];
        int[] lengths = new int[b];
        boolean any = false;
        for (int i = 0; i < b; i++) {
            SlotStreams.Piece p = pieces.get(i);
            java.util.ArrayDeque<SlotStreams.Piece> prev = previous.computeIfAbsent(p.slot(), k -> new java.util.ArrayDeque<>());
            if (p.newDocument()) {
                prev.clear();
            }
            int j = 0;
            for (SlotStreams.Piece q : prev) {
                System.arraycopy(q.tokens(), 0, tokens, (i * n + j) * t, t);
                lengths[i] += q.length();
                j++;
                any = true;
            }
            prev.addLast(p);
            if (prev.size() > n) {
                prev.removeFirst();
            }
        }
        if (!any) {
            return null;
        }
        // adapter dropout masks are drawn per slot for one segment-wide row; with several memory segments per slot the
        // rows no longer match the slots, so that recompute runs without dropout (in-graph memory is meant for
        // full training from scratch, where adapters and their dropout do not exist)
        NDArray[] kv = forward.forwardToMemoryLayer(this::lookup, m,
                new TrainingForward.Input(tokens, b * n, t, 1, null, n == 1 ? dropout(pieces, step, micro) : null));
        int kvHeads = params.config().numKvHeads();
        int d = params.config().headDim();
        return SegmentMemory.inGraph(kv[0].reshape(b, (long) n * t, kvHeads, d), kv[1].reshape(b, (long) n * t, kvHeads, d),
                lengths);
    }

    private void storeMemory(List<SlotStreams.Piece> pieces, TrainingForward.Output out, int t) {
        int perToken = params.config().numKvHeads() * params.config().headDim();
        float[] keys = out.memoryKeys().toFloatArray();
        float[] values = out.memoryValues().toFloatArray();
        for (int i = 0; i < pieces.size(); i++) {
            SlotStreams.Piece p = pieces.get(i);
            int from = i * t * perToken;
            int to = from + p.length() * perToken;
            memories.get(p.slot()).store(p.realTokens(), java.util.Arrays.copyOfRange(keys, from, to),
                    java.util.Arrays.copyOfRange(values, from, to));
        }
    }

    /**
     * Adapter-input dropout, drawn per slot from the run's seed, so a slot's masks do not depend on which worker
     * serves it or on which slots share its batch.
     */
    private TrainingForward.DropoutMasks dropout(List<SlotStreams.Piece> pieces, int step, int micro) {
        LoraSettings lora = params.lora();
        if (lora == null || lora.dropout() == 0) {
            return null;
        }
        float keep = 1 - lora.dropout();
        int t = settings.segmentLength();
        return (m, layer, proj, in) -> {
            float[] mask = new float[pieces.size() * t * in];
            for (int i = 0; i < pieces.size(); i++) {
                long key = settings.seed() * 0x9E3779B97F4A7C15L + ((long) step << 40) + ((long) micro << 28)
                        + ((long) pieces.get(i).slot() << 16) + ((long) layer << 4) + ParameterNames.LORA_TARGETS.indexOf(proj);
                SplittableRandom rnd = new SplittableRandom(key);
                for (int j = i * t * in; j < (i + 1) * t * in; j++) {
                    mask[j] = rnd.nextFloat() < keep ? 1 / keep : 0f;
                }
            }
            return m.create(mask, new Shape(pieces.size(), t, in));
        };
    }

    /** Gradient of each trainable parameter accumulated since {@link #beginStep} (handles owned by this worker). */
    Map<String, NDArray> gradients() {
        Map<String, NDArray> g = new HashMap<>();
        for (Map.Entry<String, NDArray> e : replica.entrySet()) {
            g.put(e.getKey(), e.getValue().getGradient());
        }
        return g;
    }

    int index() {
        return index;
    }

    List<Integer> slots() {
        return new ArrayList<>(memories.keySet());
    }

    /**
     * Stops the thread, waiting for work it is running to finish before the memories and the replica are closed: a
     * forward or backward still running on closed arrays would read freed native memory. Queued work not yet
     * started is dropped.
     */
    @Override
    public void close() {
        thread.shutdownNow();
        boolean interrupted = false;
        boolean stopped = false;
        long until = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (!stopped && System.nanoTime() < until) {
            try {
                stopped = thread.awaitTermination(1, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                interrupted = true; // closing now would be unsafe: keep waiting, restore the flag after
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (!stopped) {
            // a step hung for 10 minutes: its arrays are left open (leaked) rather than freed under it, and the
            // caller is not held forever
            System.getLogger(TrainingWorker.class.getName()).log(System.Logger.Level.WARNING,
                    "a training worker did not stop within 10 minutes; its arrays are left open");
            return;
        }
        memories.values().stream().filter(java.util.Objects::nonNull).forEach(SlotMemory::close);
        manager.close();
    }
}
