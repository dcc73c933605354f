package dev.memlong.runtime.model;

import ai.djl.ndarray.types.DataType;
import dev.memlong.runtime.config.ModelConfig;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

/**
 * The decode step (one new token per sequence, any number of sequences) in Java, on the Vector API, reading the
 * model's weights and writing its KV caches in place in PyTorch's memory.
 *
 * <p>Why: a decode step is memory-bound, yet through DJL it is ~560 native ops of 10–20 µs fixed cost each, and a
 * one-row product runs at 13–22 GB/s in MKL here. In Java the step has no per-op cost, a product streams each weight
 * row once for all rows of the batch (dot products over {@code [out, in]} rows, the batch's activations reused from
 * the L1 cache), and attention runs per sequence over its own cache slot: no padding, masks or gathers. It computes
 * the same function as {@link LlamaModel}'s tensor path (float32 throughout, the same exact rewrites of the weights),
 * which serves prefill and every step of more than one token per sequence.
 *
 * <p>Products read the weights repacked in panels ({@link PanelKernels#pack}, a copy as large as the weights it
 * covers: every layer's projections and {@code lm_head}), which streams them sequentially and needs no horizontal
 * sums: a decode step of the ~110M model took 15.1/30.0/48.2 ms at 4/16/32 sequences instead of 24.1/38.1/68.1 ms
 * (batch 1 about the same). With the system property {@code memlong.java-decode.packed=false} the products read
 * PyTorch's arrays in place instead: no copy, slower beyond one sequence.
 *
 * <p>Parallel loops run on a {@link WorkerPool} of the model's thread count. Not thread-safe (one forward at a time,
 * like the model). Closing frees the packed copies.
 */
final class VectorDecoder implements StepDecoder {

    /** Whether products read packed copies of the weights (the default) instead of PyTorch's arrays. */
    static final String PACKED_PROPERTY = "memlong.java-decode.packed";

    /** Sequences per task of the row-wise loops (norms, activations). */
    private static final int ROWS_PER_TASK = 4;

    private final WorkerPool pool;
    /** Owns the packed weights; null when products read PyTorch's arrays. */
    private final Arena packed;
    private final Layer[] layers;
    private final MemorySegment embedding;
    private final MemorySegment lmHead;
    private final float[] finalNorm;
    private final float eps;
    private final int hidden;
    private final int heads;
    private final int kvHeads;
    private final int groups;
    private final int d;
    private final int qkvOut;
    private final int inter;
    private final int vocab;

    /** A layer's projections ({@code [out, in]} in place, or packed) and their biases (or null). */
    private record Layer(MemorySegment qkv, MemorySegment qkvBias, MemorySegment out, MemorySegment outBias,
                         MemorySegment gateUp, MemorySegment gateUpBias, MemorySegment down, MemorySegment downBias) {}

    VectorDecoder(ModelConfig config, ModelWeights weights, WorkerPool pool) {
        this.pool = pool;
        this.hidden = config.hiddenSize();
        this.heads = config.numHeads();
        this.kvHeads = config.numKvHeads();
        this.groups = heads / kvHeads;
        this.d = config.headDim();
        this.qkvOut = (heads + 2 * kvHeads) * d;
        this.inter = config.intermediateSize();
        this.vocab = config.vocabSize();
        this.eps = (float) config.rmsNormEps();
        this.packed = "false".equalsIgnoreCase(System.getProperty(PACKED_PROPERTY)) ? null : Arena.ofShared();
        try {
            this.layers = new Layer[config.numLayers()];
            for (int i = 0; i < layers.length; i++) {
                LayerWeights w = weights.layers[i];
                layers[i] = new Layer(product(w.qkv(), qkvOut, hidden), NativeFloats.ofNullable(w.qkvBias()),
                        product(w.out(), hidden, heads * d), NativeFloats.ofNullable(w.outBias()),
                        product(w.gateUp(), 2 * inter, hidden), NativeFloats.ofNullable(w.gateUpBias()),
                        product(w.down(), hidden, inter), NativeFloats.ofNullable(w.downBias()));
            }
            this.lmHead = product(weights.lmHead, vocab, hidden);
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
        this.embedding = NativeFloats.of(weights.embedding);
        this.finalNorm = weights.finalNorm.toFloatArray();
    }

    /** The weights of a product: packed into {@link #packed}, or PyTorch's array in place. */
    private MemorySegment product(ai.djl.ndarray.NDArray w, int out, int in) {
        MemorySegment inPlace = NativeFloats.of(w);
        return packed == null ? inPlace : PanelKernels.pack(inPlace, out, in, packed);
    }

    @Override
    public void close() {
        if (packed != null && packed.scope().isAlive()) {
            packed.close();
        }
    }

    @Override
    public float[][][] forward(ForwardBatch batch, KvCachePool cache, RotaryTable rotary, List<MemoryKv> memories,
                               boolean allPositions) {
        int n = batch.size();
        int b = 0;
        for (int i = 0; i < n; i++) {
            b += batch.count(i);
        }
        // one row per new token: its sequence and position (a prefill piece is consecutive rows of one sequence)
        int[] rowSequence = new int[b];
        int[] rowPosition = new int[b];
        int[] lastRow = new int[n];
        Activations a = activations(b);
        float[] x = a.x;
        long[] tokens = batch.tokenIds();
        int width = batch.width();
        for (int i = 0, r = 0; i < n; i++) {
            for (int t = 0; t < batch.count(i); t++, r++) {
                long token = tokens[i * width + t]; // in [0, vocab): ForwardBatch.of checked every id
                rowSequence[r] = i;
                rowPosition[r] = batch.start(i) + t;
                lastRow[i] = r;
                VectorKernels.load(embedding, token * hidden, x, r * hidden, hidden);
            }
        }
        Step s = new Step(batch, cache, rotary, memories, rowSequence, rowPosition);
        float[] xn = a.xn;
        float[] qkv = a.qkv;
        float[] attn = a.attn;
        float[] gu = a.gu;
        float[] act = a.act;
        for (int i = 0; i < layers.length; i++) {
            Layer w = layers[i];
            norm(x, xn, b, null);
            matmul(w.qkv, hidden, w.qkvBias, xn, b, qkv, qkvOut, false);
            int layer = i;
            // every row's key and value are in the cache before any row attends: a prompt's later tokens read its
            // earlier ones
            pool.forEach(b * kvHeads, t -> s.store(layer, t / kvHeads, t % kvHeads, qkv));
            pool.forEach(b * kvHeads, t -> s.attention(layer, t / kvHeads, t % kvHeads, qkv, attn));
            matmul(w.out, heads * d, w.outBias, attn, b, x, hidden, true);
            norm(x, xn, b, null);
            matmul(w.gateUp, hidden, w.gateUpBias, xn, b, gu, 2 * inter, false);
            rows(b, r -> VectorKernels.swiglu(gu, r * 2 * inter, r * 2 * inter + inter, act, r * inter, inter));
            matmul(w.down, inter, w.downBias, act, b, x, hidden, true);
        }
        float[][][] out = new float[n][][];
        if (allPositions) {
            norm(x, xn, b, finalNorm);
            float[] logits = logits(b);
            matmul(lmHead, hidden, null, xn, b, logits, vocab, false);
            for (int i = 0, r = 0; i < n; i++) {
                out[i] = new float[batch.count(i)][];
                for (int t = 0; t < batch.count(i); t++, r++) {
                    out[i][t] = Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
                }
            }
            return out;
        }
        // the head only for each sequence's last token: its hidden state moved to row i
        for (int i = 0; i < n; i++) {
            if (lastRow[i] != i) {
                System.arraycopy(x, lastRow[i] * hidden, x, i * hidden, hidden);
            }
        }
        norm(x, xn, n, finalNorm);
        float[] logits = logits(n);
        matmul(lmHead, hidden, null, xn, n, logits, vocab, false);
        for (int i = 0; i < n; i++) {
            out[i] = new float[][] {Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab)};
        }
        return out;
    }

    /**
     * Reads the leaving rows' memory-layer K/V out of the cache and moves the rest in place on the cache's memory, one
     * task per layer and KV head over the pool, vectorised. Through the tensor path a shift was ~150 native ops
     * and took ~20 ms (up to 76 ms) on the ~110M model, a stall of every running conversation each time a window
     * overflowed; the first Java version (a tensor-path read of the leaving K/V, then one scalar pass on the calling
     * thread) took a median 11.2 ms at the default window of 2048 (1024 rows leave), this one 3.75 ms (measured side by
     * side on 2 shared cores), close to the ~3.7 ms a plain copy of the ~75 MB a shift moves takes there. Rotation by
     * {@code -p}: {@code x·cos(p) - rotate_half(x)·sin(p)}, in float32 without fused multiply-adds, so the keys are
     * bit for bit the tensor path's ({@link VectorKernels#rotateBack}).
     */
    @Override
    public EvictedWindow shiftWindow(KvCachePool cache, int slot, int tokens, RotaryTable rotary) {
        int memoryLayer = cache.memLong().memoryLayer();
        long rowsPerSlot = cache.capacity() + 1L;
        int width = kvHeads * d;
        int rest = cache.length(slot) - tokens;
        // the leaving rows, token-major [tokens, kvHeads, d]: the memory layer's keys before RoPE and its values
        float[] evictedKeys = new float[Math.multiplyExact(tokens, width)];
        float[] evictedValues = new float[evictedKeys.length];
        float[] cos = rotary.cosTable();
        float[] sin = rotary.sinTable();
        int co = tokens * d;
        boolean bf16 = cache.type() == DataType.BFLOAT16;
        long element = bf16 ? Short.BYTES : Float.BYTES;
        long bytes = (long) rest * d * element;
        MemorySegment preRope = NativeFloats.cacheRows(cache, cache.memoryLayerKeys());
        MemorySegment[] k = new MemorySegment[layers.length];
        MemorySegment[] v = new MemorySegment[layers.length];
        for (int layer = 0; layer < layers.length; layer++) {
            k[layer] = NativeFloats.cacheRows(cache, cache.keys(layer));
            v[layer] = NativeFloats.cacheRows(cache, cache.values(layer));
        }
        // one task per layer and KV head, plus one per KV head for the memory layer's pre-RoPE keys: disjoint rows;
        // a task reads its leaving rows (memory layer) before it moves the rest over them
        pool.forEach((layers.length + 1) * kvHeads, task -> {
            int layer = task / kvHeads;
            int g = task % kvHeads;
            long base = ((long) slot * kvHeads + g) * rowsPerSlot;
            if (layer == layers.length) {
                for (int t = 0; t < tokens; t++) {
                    loadRow(bf16, preRope, (base + t) * d, evictedKeys, t * width + g * d);
                }
                if (rest > 0) {
                    MemorySegment.copy(preRope, (base + tokens) * d * element, preRope, base * d * element, bytes);
                }
                return;
            }
            if (layer == memoryLayer) {
                for (int t = 0; t < tokens; t++) {
                    loadRow(bf16, v[layer], (base + t) * d, evictedValues, t * width + g * d);
                }
            }
            if (rest > 0) {
                MemorySegment.copy(v[layer], (base + tokens) * d * element, v[layer], base * d * element,
                        bytes); // overlap-safe
                for (int r = 0; r < rest; r++) { // ascending: a row is read before any write reaches it
                    if (bf16) {
                        Bf16Kernels.rotateBack(k[layer], (base + tokens + r) * d, (base + r) * d, cos, sin, co, d);
                    } else {
                        VectorKernels.rotateBack(k[layer], (base + tokens + r) * d, (base + r) * d, cos, sin, co, d);
                    }
                }
            }
        });
        return new EvictedWindow(tokens, evictedKeys, evictedValues);
    }

    /** One cache row of {@code d} elements, widened to floats when the cache is bfloat16. */
    private void loadRow(boolean bf16, MemorySegment seg, long index, float[] dst, int doff) {
        if (bf16) {
            Bf16Kernels.loadRow(seg, index, dst, doff, d);
        } else {
            VectorKernels.loadRow(seg, index, dst, doff, d);
        }
    }

    @Override
    public float[] logits(float[] normed, int rows) {
        float[] logits = new float[rows * vocab];
        matmul(lmHead, hidden, null, normed, rows, logits, vocab, false);
        return logits;
    }

    /**
     * The step's activation buffers, kept between steps and grown to the largest batch seen: a step of 64 sequences
     * would otherwise allocate megabytes of short-lived arrays, some of them humongous for G1 (measured at 64
     * conversations: collections for humongous allocations with pauses up to 90 ms).
     */
    private static final class Activations {
        final float[] x;
        final float[] xn;
        final float[] qkv;
        final float[] attn;
        final float[] gu;
        final float[] act;
        final int rows;

        Activations(int rows, int hidden, int qkvOut, int attnOut, int inter) {
            this.rows = rows;
            x = new float[rows * hidden];
            xn = new float[rows * hidden];
            qkv = new float[rows * qkvOut];
            attn = new float[rows * attnOut];
            gu = new float[rows * 2 * inter];
            act = new float[rows * inter];
        }
    }

    /**
     * The head's output, kept between forwards and grown to the most rows seen (sequences, or every row of a short
     * prompt): 8 MB at 64 sequences, and allocated each step it forced humongous-allocation collections.
     */
    private float[] logits;

    private float[] logits(int rows) {
        if (logits == null || logits.length < rows * vocab) {
            logits = new float[Math.max(rows, Integer.highestOneBit(Math.max(1, rows - 1)) << 1) * vocab];
        }
        return logits;
    }

    private Activations activations;

    private Activations activations(int rows) {
        if (activations == null || activations.rows < rows) {
            // a power of two: a scheduler's batch grows one sequence at a time
            int size = Integer.highestOneBit(rows - 1) << 1;
            activations = new Activations(Math.max(1, size), hidden, qkvOut, heads * d, inter);
        }
        return activations;
    }

    private void norm(float[] x, float[] out, int b, float[] weight) {
        rows(b, r -> VectorKernels.rmsNorm(x, r * hidden, out, r * hidden, hidden, eps, weight));
    }

    /** Runs {@code task} for every row, rows split over the pool in groups of {@link #ROWS_PER_TASK}. */
    private void rows(int b, java.util.function.IntConsumer task) {
        if (b <= ROWS_PER_TASK) {
            for (int r = 0; r < b; r++) {
                task.accept(r);
            }
            return;
        }
        pool.forEach((b + ROWS_PER_TASK - 1) / ROWS_PER_TASK, t -> {
            for (int r = t * ROWS_PER_TASK; r < Math.min(b, (t + 1) * ROWS_PER_TASK); r++) {
                task.accept(r);
            }
        });
    }

    /**
     * {@code y (+)= x · Wᵀ + bias} for {@code rows} rows, the outputs split over the pool in blocks (of panels, or of
     * weight rows), eight per thread, so that a thread slowed by other processes costs little.
     */
    private void matmul(MemorySegment w, int in, MemorySegment bias, float[] x, int rows, float[] y, int out,
                        boolean accumulate) {
        if (packed != null) {
            PanelKernels.matmul(pool, w, in, bias, x, rows, y, out, accumulate);
            return;
        }
        int tasks = Math.max(1, Math.min(pool.threads() * 8, out / 16));
        int per = ((out + tasks - 1) / tasks + 3) / 4 * 4;
        int n = (out + per - 1) / per;
        pool.forEach(n, t -> VectorKernels.matmul(w, in, bias, x, rows, y, out, t * per, Math.min(out, (t + 1) * per),
                accumulate));
    }

    /** The per-sequence parts of one step: cache segments, positions, rotary rows and retrieved memory. */
    private final class Step {
        private final ForwardBatch batch;
        private final KvCachePool cache;
        private final RotaryTable rotary;
        private final List<MemoryKv> memories;
        private final int rowsPerSlot;
        private final MemLongLayers memLong;
        private final MemorySegment[] keys;     // per layer, borrowed from the cache's tensors for this step
        private final MemorySegment[] values;
        private final MemorySegment memoryLayerKeys;
        private final MemorySegment[] memoryKeys; // per sequence, its retrieved memory (null: none)
        private final MemorySegment[] memoryValues;
        private final int[] rowSequence;
        private final int[] rowPosition;
        private final boolean bf16; // the cache stores bfloat16 rows (Bf16Kernels), else float32

        Step(ForwardBatch batch, KvCachePool cache, RotaryTable rotary, List<MemoryKv> memories, int[] rowSequence,
             int[] rowPosition) {
            this.batch = batch;
            this.rowSequence = rowSequence;
            this.rowPosition = rowPosition;
            this.cache = cache;
            this.rotary = rotary;
            this.memories = memories;
            this.rowsPerSlot = cache.capacity() + 1;
            this.memLong = cache.memLong();
            int layerCount = layers.length;
            this.keys = new MemorySegment[layerCount];
            this.values = new MemorySegment[layerCount];
            for (int i = 0; i < layerCount; i++) {
                keys[i] = NativeFloats.cacheRows(cache, cache.keys(i));
                values[i] = NativeFloats.cacheRows(cache, cache.values(i));
            }
            this.memoryLayerKeys = memLong == null ? null : NativeFloats.cacheRows(cache, cache.memoryLayerKeys());
            this.bf16 = cache.type() == DataType.BFLOAT16;
            int b = batch.size();
            this.memoryKeys = new MemorySegment[b];
            this.memoryValues = new MemorySegment[b];
            for (int r = 0; memories != null && r < b; r++) {
                MemoryKv m = memories.get(r);
                if (m != null && m.tokens() > 0) {
                    memoryKeys[r] = NativeFloats.of(m.keys);
                    memoryValues[r] = NativeFloats.of(m.values);
                }
            }
        }

        /**
         * Row {@code r}, KV head {@code g}: rotates the row's new key and writes it (and, in the memory layer, the key
         * before rotation) and its value to the sequence's cache slot at the row's position.
         */
        void store(int layer, int r, int g, float[] qkv) {
            int slot = batch.slot(rowSequence[r]);
            int pos = rowPosition[r];
            int ropeRow = (pos + cache.positionOffset()) * d;
            int row = r * qkvOut;
            int kOff = row + (heads + g) * d;
            int vOff = row + (heads + kvHeads + g) * d;
            long cacheRow = ((long) slot * kvHeads + g) * rowsPerSlot;
            if (memLong != null && layer == memLong.memoryLayer()) {
                storeRow(qkv, kOff, memoryLayerKeys, (cacheRow + pos) * d);
            }
            VectorKernels.rotate(qkv, kOff, rotary.cosTable(), rotary.sinTable(), ropeRow, d);
            storeRow(qkv, kOff, keys[layer], (cacheRow + pos) * d);
            storeRow(qkv, vOff, values[layer], (cacheRow + pos) * d);
        }

        private void storeRow(float[] src, int so, MemorySegment seg, long index) {
            if (bf16) {
                Bf16Kernels.store(src, so, seg, index, d);
            } else {
                VectorKernels.store(src, so, seg, index, d);
            }
        }

        /**
         * Row {@code r}, KV head {@code g}: rotates the row's query heads of the group and attends over its sequence's
         * retrieved memory (retrieval layers) and the slot's cached tokens up to the row's own, in one float32
         * softmax.
         */
        void attention(int layer, int r, int g, float[] qkv, float[] attn) {
            int sequence = rowSequence[r];
            int slot = batch.slot(sequence);
            int pos = rowPosition[r];
            int ropeRow = (pos + cache.positionOffset()) * d;
            float[] cos = rotary.cosTable();
            float[] sin = rotary.sinTable();
            int row = r * qkvOut;
            long cacheRow = ((long) slot * kvHeads + g) * rowsPerSlot;
            MemorySegment k = keys[layer];
            MemorySegment v = values[layer];

            boolean retrieves = memoryKeys[sequence] != null && memLong.isRetrievalLayer(layer);
            MemorySegment memK = retrieves ? memoryKeys[sequence] : null;
            MemorySegment memV = retrieves ? memoryValues[sequence] : null;
            int m = retrieves ? memories.get(sequence).tokens() : 0;
            int local = pos + 1;
            float[] scores = new float[m + local];
            for (int h = g * groups; h < (g + 1) * groups; h++) {
                int qOff = row + h * d;
                VectorKernels.rotate(qkv, qOff, cos, sin, ropeRow, d);
                long memBase = (long) g * m;
                if (m > 0) {
                    VectorKernels.rowDots(memK, memBase, m, d, qkv, qOff, scores, 0);
                }
                if (bf16) {
                    Bf16Kernels.rowDots(k, cacheRow, local, d, qkv, qOff, scores, m);
                } else {
                    VectorKernels.rowDots(k, cacheRow, local, d, qkv, qOff, scores, m);
                }
                VectorKernels.softmax(scores, 0, m + local);
                int o = (r * heads + h) * d;
                java.util.Arrays.fill(attn, o, o + d, 0f);
                if (m > 0) {
                    VectorKernels.weightedRows(scores, 0, m, memV, memBase, d, attn, o);
                }
                if (bf16) {
                    Bf16Kernels.weightedRows(scores, m, local, v, cacheRow, d, attn, o);
                } else {
                    VectorKernels.weightedRows(scores, m, local, v, cacheRow, d, attn, o);
                }
            }
        }
    }
}
