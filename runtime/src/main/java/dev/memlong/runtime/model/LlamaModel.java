package dev.memlong.runtime.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.memlong.runtime.checkpoint.Checkpoints;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.engine.Engines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A LLaMA-family decoder (Llama 2/3, Mistral, Qwen2, OpenLLaMA) on DJL's NDArray API: RMSNorm, rotary
 * positions, grouped-query attention over a KV cache, SiLU MLP.
 *
 * <p>One forward call processes a batch of {@link SequenceStep}s of different lengths against their cache slots
 * (padding plus masks), which serves prefill, decoding and a scheduler's mixed batches alike. Everything a
 * forward allocates lives in an {@link NDScope} closed before it returns; only the caches, written in place,
 * persist. Not thread-safe: one forward at a time per model instance.
 */
public final class LlamaModel implements AutoCloseable {

    /** Vocabulary columns per block of the output projection for multi-row batches (see {@link #lmHead}). */
    private static final int LM_HEAD_BLOCK = 2048;
    /** Up to this many rows the output projection of a tensor-path forward runs in Java (see {@link #lmHead}). */
    private static final int JAVA_HEAD_ROWS = 64;

    private final ModelConfig config;
    private final NDManager manager;
    private final ModelWeights weights;
    private final DataType computeType;
    /**
     * What caches store: computeType, or bfloat16 under float32 compute, which only the Java decode step reads and
     * writes (DJL cannot: see {@link KvCachePool}), so such a model needs it and runs every forward through it.
     */
    private final DataType kvType;
    private final Attention attention;
    private final NDArray epsilon; // RMSNorm's eps as a tensor: a Number operand costs an extra native call per use
    private RotaryTable rotary;
    private long version;
    private final WorkerPool pool;          // null when the Java decode step is off
    // decode steps (one token per sequence) in Java; null: tensor path only. It holds the weights' native
    // addresses, so it is rebuilt whenever weights are replaced (replaceUpperLayers frees the old arrays).
    private StepDecoder decoder;
    private boolean javaDecode;

    private LlamaModel(ModelConfig config, NDManager manager, ModelWeights weights, DataType computeType,
                       DataType kvType, boolean onCpu) {
        this.config = config;
        this.manager = manager;
        this.weights = weights;
        this.computeType = computeType;
        this.kvType = kvType;
        this.attention = new Attention(config.numHeads(), config.numKvHeads(), config.headDim(), computeType);
        this.epsilon = manager.create(config.rmsNormEps());
        ensureRotary(Math.min(config.maxPositionEmbeddings(), 4096));
        if (onCpu && JavaDecode.available(computeType)) {
            this.pool = new WorkerPool(JavaDecode.threads(), "memlong-decode");
            this.decoder = JavaDecode.create(config, weights, pool);
            this.javaDecode = true;
        } else {
            if (kvType == DataType.BFLOAT16) {
                throw new IllegalArgumentException("a bfloat16 KV cache needs the Java decode step: float32 compute on"
                        + " the CPU, a JDK 22+ started with --add-modules jdk.incubator.vector, and -D"
                        + JavaDecode.PROPERTY + " not false");
            }
            this.pool = null;
            this.decoder = null;
        }
    }

    /** Loads a Hugging Face model directory with float32 compute on the CPU. */
    public static LlamaModel load(Path modelDir) {
        return load(modelDir, ModelOptions.defaults());
    }

    public static LlamaModel load(Path modelDir, ModelOptions options) {
        ModelConfig config = ModelConfig.load(modelDir);
        Engine engine = Engines.pytorch();
        NDManager manager = engine.newBaseManager(options.device());
        try (WeightSource src = Checkpoints.open(modelDir)) {
            ModelWeights weights = ModelWeights.load(src, config, manager.newSubManager(), options.computeType());
            return new LlamaModel(config, manager, weights, options.computeType(), options.kvCacheType(),
                    options.device().equals(ai.djl.Device.cpu()));
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    public long parameterCount() {
        return weights.parameterCount();
    }

    /**
     * Which weights the model runs: 0 as loaded, else the version given to the last
     * {@link #replaceUpperLayers}. Every forward runs on exactly one version: the model is used by one thread, and
     * replacing weights is a call on that thread between two forwards.
     */
    public long version() {
        return version;
    }

    /**
     * Replaces the weights of layers {@code firstLayer..L-1} and the final norm with those in {@code src} (every
     * tensor of those layers and {@code model.norm.weight}, Hugging Face names), and sets {@link #version()}. The
     * embedding, layers {@code 0..firstLayer-1} and {@code lm_head} stay the very same arrays, so a KV cache's
     * lower layers and every stored memory-layer K/V stay valid. A source with a missing or misshapen tensor fails
     * before anything is replaced. Call it between forwards, on the thread that runs them.
     */
    public void replaceUpperLayers(WeightSource src, int firstLayer, long newVersion) {
        weights.replaceUpper(src, firstLayer);
        if (decoder != null) {
            // the Java decoder read the replaced (now freed) arrays' addresses, or packed copies of them: rebuild it
            StepDecoder old = decoder;
            decoder = JavaDecode.create(config, weights, pool);
            old.close();
        }
        this.version = newVersion;
    }

    /**
     * The arrays of the part a fine-tuning round above {@code memoryLayer} never changes: the embedding, every array of
     * layers {@code 0..memoryLayer}, and {@code lm_head}. For checks of MemLong's invariant (the same objects, the
     * same bytes, before and after a weight swap); do not modify them.
     */
    public List<NDArray> frozenArrays(int memoryLayer) {
        List<NDArray> frozen = new java.util.ArrayList<>();
        frozen.add(weights.embedding);
        for (int i = 0; i <= memoryLayer; i++) {
            frozen.addAll(weights.layers[i].arrays());
        }
        frozen.add(weights.lmHead);
        return frozen;
    }

    /** A cache for {@code slots} sequences of up to {@code capacity} tokens each. */
    public KvCachePool newCache(int slots, int capacity) {
        return newCache(slots, capacity, null);
    }

    /**
     * A cache for MemLong: local tokens numbered from position 1, the memory layer's pre-RoPE keys kept, and
     * retrieval layers that attend to {@link MemoryKv} passed to {@link #forward(KvCachePool, List, boolean, List)}.
     */
    public KvCachePool newCache(int slots, int capacity, MemLongLayers memLong) {
        if (capacity > config.slidingWindow()) {
            throw new IllegalArgumentException("a cache of " + capacity + " tokens exceeds the model's sliding window of "
                    + config.slidingWindow() + "; attention here is full, which only agrees with it within the window");
        }
        if (memLong != null) {
            memLong.requireWithin(config.numLayers());
        }
        ensureRotary(capacity + 1);
        return new KvCachePool(manager, config.numLayers(), slots, capacity, config.numKvHeads(), config.headDim(),
                kvType, memLong);
    }

    private void ensureRotary(int positions) {
        if (rotary == null || rotary.positions() < positions + 1) {
            if (rotary != null) {
                rotary.close();
            }
            rotary = new RotaryTable(manager, config.rope(), positions + 1);
        }
    }

    /**
     * Uploads retrieved memory for the retrieval layers.
     *
     * @param keys   memory-layer pre-RoPE keys, {@code [tokens, kvHeads, headDim]} row-major
     * @param values memory-layer values, same layout
     */
    public MemoryKv memoryKv(float[] keys, float[] values, int tokens) {
        return new MemoryKv(manager, keys, values, tokens, config.numKvHeads(), config.headDim(), computeType);
    }

    /** Logits at every position of {@code ids}, from an empty cache: {@code [ids.length][vocab]}. */
    public float[][] forwardLogits(int[] ids) {
        try (KvCachePool cache = newCache(1, ids.length)) {
            return forward(cache, List.of(new SequenceStep(0, ids)), true)[0];
        }
    }

    /** {@link #forward(KvCachePool, List, boolean, List)} without retrieved memory. */
    public float[][][] forward(KvCachePool cache, List<SequenceStep> steps, boolean allPositions) {
        return forward(cache, steps, allPositions, null);
    }

    /**
     * Runs new tokens of several sequences through the model, appending them to their cache slots.
     *
     * @param allPositions true for logits at every new token, false for the last new token of each sequence only
     * @param memories     per sequence (aligned with {@code steps}) the retrieved memory its retrieval layers
     *                     attend to, or null entries / a null list for none; needs a MemLong cache
     * @return {@code [sequence][position][vocab]}; with {@code allPositions=false} one position per sequence
     */
    public float[][][] forward(KvCachePool cache, List<SequenceStep> steps, boolean allPositions,
                               List<MemoryKv> memories) {
        ForwardBatch batch = ForwardBatch.of(cache, steps, config.vocabSize());
        if (memories != null && memories.size() != steps.size()) {
            throw new IllegalArgumentException(memories.size() + " memories for " + steps.size() + " sequences");
        }
        boolean anyMemory = memories != null && memories.stream().anyMatch(Objects::nonNull);
        if (anyMemory && cache.memLong() == null) {
            throw new IllegalArgumentException("retrieved memory needs a cache created with MemLong layers");
        }
        float[][][] result;
        boolean inJava = javaDecode && javaRows(batch, allPositions);
        if (cache.type() == DataType.BFLOAT16 && !inJava) {
            if (!javaDecode) {
                throw new IllegalStateException("a bfloat16 KV cache is read and written by the Java decode step only,"
                        + " and it is off");
            }
            return forwardInPieces(cache, steps, allPositions, memories);
        }
        if (inJava) {
            result = decoder.forward(batch, cache, rotary, anyMemory ? memories : null, allPositions);
            batch.commit(cache);
            return result;
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            StepContext ctx = context(batch, cache, anyMemory ? memories : null);
            NDArray x = weights.embedding.get(manager.create(batch.tokenIds(), new Shape(batch.size(), batch.width())));
            for (int i = 0; i < config.numLayers(); i++) {
                x = layer(i, x, ctx);
            }
            x = rmsNorm(x, weights.finalNorm);
            if (!allPositions && batch.width() > 1) {
                x = x.reshape(batch.size() * (long) batch.width(), config.hiddenSize())
                        .get(manager.create(batch.lastTokenRows()));
            }
            result = batch.unpackLogits(lmHead(x), allPositions, config.vocabSize());
        }
        batch.commit(cache);
        return result;
    }

    /**
     * A forward too large for one Java step, over a bfloat16 cache: each sequence's new tokens in consecutive pieces
     * of up to {@value #JAVA_PIECE} tokens, in order (a piece attends to the ones before it through the cache, as one
     * forward would), which gives what one forward gives up to float32 rounding.
     */
    private float[][][] forwardInPieces(KvCachePool cache, List<SequenceStep> steps, boolean allPositions,
                                        List<MemoryKv> memories) {
        float[][][] out = new float[steps.size()][][];
        for (int i = 0; i < steps.size(); i++) {
            SequenceStep step = steps.get(i);
            List<MemoryKv> memory = memories == null ? null : java.util.Collections.singletonList(memories.get(i));
            List<float[]> rows = new ArrayList<>();
            int[] ids = step.tokens();
            for (int from = 0; from < ids.length; from += JAVA_PIECE) {
                int[] piece = Arrays.copyOfRange(ids, from, Math.min(ids.length, from + JAVA_PIECE));
                float[][] logits = forward(cache, List.of(new SequenceStep(step.slot(), piece)), allPositions, memory)[0];
                if (allPositions || from + JAVA_PIECE >= ids.length) {
                    rows.addAll(List.of(logits));
                }
            }
            out[i] = rows.toArray(new float[0][]);
        }
        return out;
    }

    /** Tokens per piece of {@link #forwardInPieces}: within what {@link #javaRows} takes with every position's logits. */
    private static final int JAVA_PIECE = 64;

    /**
     * Whether the Java decoder takes this forward: every decode step, and prefill up to {@link StepDecoder#MAX_ROWS}
     * new tokens (measured on the ~110M model, 2 cores: a 16-token prompt piece took ~130 ms on the tensor path, whose
     * ~560 native ops cost ~40 ms even for one token; logits at every position are produced for at most 64 rows, so
     * a perplexity pass over a long text does not hold rows x vocabulary floats twice).
     */
    private static boolean javaRows(ForwardBatch batch, boolean allPositions) {
        int rows = 0;
        for (int i = 0; i < batch.size(); i++) {
            rows += batch.count(i);
        }
        return batch.width() == 1 || rows <= (allPositions ? 64 : StepDecoder.MAX_ROWS);
    }

    private StepContext context(ForwardBatch batch, KvCachePool cache, List<MemoryKv> memories) {
        NDManager m = manager;
        int b = batch.size();
        int t = batch.width();
        NDArray positions = m.create(batch.positions());
        NDArray cos = rotary.cos(positions).reshape(b, t, 1, config.headDim());
        NDArray sin = rotary.sin(positions).reshape(b, t, 1, config.headDim());
        if (computeType != DataType.FLOAT32) {
            cos = cos.toType(computeType, false);
            sin = sin.toType(computeType, false);
        }
        NDArray mask = batch.needsMask() ? m.create(batch.mask(), new Shape(b, 1, 1, t, batch.span())) : null;
        NDIndex write = new NDIndex("{}, :, {}", m.create(batch.writeSlots()), m.create(batch.writePositions()));
        NDIndex read = batch.contiguousSlots()
                ? new NDIndex(batch.firstSlot() + ":" + (batch.firstSlot() + b) + ", :, 0:" + batch.span())
                : new NDIndex("{}, :, 0:" + batch.span(), m.create(batch.slots()));
        if (memories == null) {
            return new StepContext(batch, cache, cos, sin, mask, write, read, null, null, null);
        }
        int[] memoryTokens = new int[b];
        int width = 0;
        for (int i = 0; i < b; i++) {
            memoryTokens[i] = memories.get(i) == null ? 0 : memories.get(i).tokens();
            width = Math.max(width, memoryTokens[i]);
        }
        NDArray memK = paddedMemory(memories, width, true);
        NDArray memV = paddedMemory(memories, width, false);
        NDArray memMask = batch.needsMask(memoryTokens, width)
                ? m.create(batch.mask(memoryTokens, width), new Shape(b, 1, 1, t, width + batch.span())) : null;
        return new StepContext(batch, cache, cos, sin, mask, write, read, memK, memV, memMask);
    }

    /** Memory of every sequence, zero-padded to {@code width} tokens (the mask hides the padding): {@code [B,KV,M,D]}. */
    private NDArray paddedMemory(List<MemoryKv> memories, int width, boolean keys) {
        if (memories.size() == 1) {
            return (keys ? memories.get(0).keys : memories.get(0).values).expandDims(0);
        }
        NDList rows = new NDList();
        for (MemoryKv mem : memories) {
            int have = mem == null ? 0 : mem.tokens();
            NDArray row = mem == null ? null : keys ? mem.keys : mem.values;
            if (have < width) {
                NDArray pad = manager.zeros(new Shape(config.numKvHeads(), width - have, config.headDim()), computeType);
                row = row == null ? pad : row.concat(pad, 1);
            }
            rows.add(row);
        }
        return NDArrays.stack(rows, 0);
    }

    private NDArray layer(int index, NDArray x, StepContext ctx) {
        LayerWeights w = weights.layers[index];
        int b = ctx.batch().size();
        int t = ctx.batch().width();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int d = config.headDim();
        long rows = (long) b * t;

        NDArray qkv = linear(rmsNorm(x, null), w.qkv(), w.qkvBias());
        NDList qkAndV = qkv.split(new long[] {(long) (heads + kvHeads) * d}, 2);
        NDArray qkPlain = qkAndV.get(0).reshape(b, t, heads + kvHeads, d);
        NDArray qk = rotate(qkPlain, ctx.cos(), ctx.sin());
        NDList qAndK = qk.split(new long[] {heads}, 2);
        NDArray q = qAndK.get(0);                                   // [B, T, H, D]
        NDArray k = qAndK.get(1);                                   // [B, T, KV, D]
        NDArray v = qkAndV.get(1).reshape(b, t, kvHeads, d);

        KvCachePool cache = ctx.cache();
        cache.keys(index).set(ctx.write(), k.reshape(rows, kvHeads, d));
        cache.values(index).set(ctx.write(), v.reshape(rows, kvHeads, d));
        MemLongLayers memLong = cache.memLong();
        if (memLong != null && index == memLong.memoryLayer()) {
            NDArray preRope = qkPlain.split(new long[] {heads}, 2).get(1);
            cache.memoryLayerKeys().set(ctx.write(), preRope.reshape(rows, kvHeads, d));
        }
        NDArray kAll = cache.keys(index).get(ctx.read());           // [B, KV, S, D]
        NDArray vAll = cache.values(index).get(ctx.read());

        NDArray attn = ctx.hasMemory() && memLong.isRetrievalLayer(index)
                ? attention.withMemory(q, kAll, vAll, ctx.memoryKeys(), ctx.memoryValues(), ctx.memoryMask(), b, t,
                        ctx.batch().span())
                : attention.local(q, kAll, vAll, ctx.mask(), b, t, ctx.batch().span());
        x = x.add(linear(attn, w.out(), w.outBias()));

        NDArray gateUp = linear(rmsNorm(x, null), w.gateUp(), w.gateUpBias());
        NDList gu = gateUp.split(2, 2);
        NDArray gate = gu.get(0);
        NDArray act = gate.mul(Activation.sigmoid(gate)).mul(gu.get(1));
        return x.add(linear(act, w.down(), w.downBias()));
    }

    /**
     * Removes a slot's oldest {@code tokens} tokens from the window and returns their memory-layer K/V (already
     * computed: no recomputation). The remaining tokens move to the front of the cache and their keys are rotated
     * back by {@code tokens} positions, so local positions keep starting at 1 ("Zero" mode); each key is rotated
     * back at most once, since it leaves the window at the next overflow.
     */
    public EvictedWindow shiftWindow(KvCachePool cache, int slot, int tokens) {
        MemLongLayers memLong = cache.memLong();
        int length = cache.length(slot);
        if (memLong == null) {
            throw new IllegalArgumentException("only a MemLong cache moves its window to memory");
        }
        if (tokens <= 0 || tokens > length) {
            throw new IllegalArgumentException("cannot move " + tokens + " of slot " + slot + "'s " + length + " tokens");
        }
        int rest = length - tokens;
        if (cache.type() == DataType.BFLOAT16 && !javaDecode) {
            throw new IllegalStateException("a bfloat16 KV cache is read and written by the Java decode step only, and"
                    + " it is off");
        }
        if (javaDecode) { // reads the leaving K/V and moves the rest in Java, in place (no tensor ops)
            EvictedWindow evicted = decoder.shiftWindow(cache, slot, tokens, rotary);
            cache.shrink(slot, tokens);
            return evicted;
        }
        EvictedWindow evicted;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDIndex oldest = new NDIndex(slot + ", :, 0:" + tokens);
            float[] keys = tokenMajor(cache.memoryLayerKeys().get(oldest));
            float[] values = tokenMajor(cache.values(memLong.memoryLayer()).get(oldest));
            evicted = new EvictedWindow(tokens, keys, values);
            if (rest > 0) {
                NDIndex from = new NDIndex(slot + ", :, " + tokens + ":" + length);
                NDIndex to = new NDIndex(slot + ", :, 0:" + rest);
                NDArray position = manager.create(new long[] {tokens});
                NDArray cos = rotary.cos(position).toType(computeType, false);
                NDArray sin = rotary.sin(position).toType(computeType, false);
                for (int i = 0; i < config.numLayers(); i++) {
                    NDArray k = cache.keys(i).get(from).duplicate();        // [KV, rest, D], a copy: ranges overlap
                    // rotation by -p: x*cos(p) - rotate_half(x)*sin(p)
                    NDArray back = k.mul(cos).sub(rotateHalf(k, 2).mul(sin));
                    cache.keys(i).set(to, back);
                    cache.values(i).set(to, cache.values(i).get(from).duplicate());
                }
                cache.memoryLayerKeys().set(to, cache.memoryLayerKeys().get(from).duplicate());
            }
        }
        cache.shrink(slot, tokens);
        return evicted;
    }

    /** {@code [KV, N, D]} to row-major {@code [N, KV, D]} floats. */
    private static float[] tokenMajor(NDArray headMajor) {
        return headMajor.transpose(1, 0, 2).flatten().toType(DataType.FLOAT32, false).toFloatArray();
    }

    private static NDArray rotateHalf(NDArray x, int axis) {
        NDList halves = x.split(2, axis);
        return halves.get(1).neg().concat(halves.get(0), axis);
    }

    /** Rotary embedding as transformers applies it: {@code x*cos + rotate_half(x)*sin}. */
    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        return x.mul(cos).add(rotateHalf(x, 3).mul(sin));
    }

    /**
     * {@code x / sqrt(mean(x²) + eps)} in float32, times {@code weight} unless it is null (the layers' norm
     * weights are folded into the projections that follow them).
     */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray xf = computeType == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray normed = xf.div(xf.square().mean(new int[] {-1}, true).add(epsilon).sqrt());
        if (computeType != DataType.FLOAT32) {
            normed = normed.toType(computeType, false);
        }
        return weight == null ? normed : normed.mul(weight);
    }

    /**
     * The output projection, as float32 logits {@code [rows * vocab]}. For a few rows (a prefill's last tokens) in
     * Java when the Java decode step is on: its product reads the weight once for all rows, where a one-row
     * {@code torch.linear} reads it at 13 GB/s. Otherwise, with several rows and a large vocabulary, in blocks of
     * vocabulary rows: one {@code [rows, hidden] x [hidden, 32000]} matmul was measured 2-4x slower here on CPU than
     * the same work in blocks of 2048 (batch 8-32).
     */
    private float[] lmHead(NDArray x) {
        int rows = (int) (x.getShape().size() / config.hiddenSize());
        if (javaDecode && rows <= JAVA_HEAD_ROWS) {
            return decoder.logits(x.toType(DataType.FLOAT32, false).toFloatArray(), rows);
        }
        int vocab = config.vocabSize();
        if (rows == 1 || vocab <= 2 * LM_HEAD_BLOCK) {
            return linear(x, weights.lmHead, null).toType(DataType.FLOAT32, false).toFloatArray();
        }
        NDList blocks = new NDList();
        for (int from = 0; from < vocab; from += LM_HEAD_BLOCK) {
            blocks.add(linear(x, weights.lmHead.get(new NDIndex(from + ":" + Math.min(vocab, from + LM_HEAD_BLOCK))), null));
        }
        return NDArrays.concat(blocks, x.getShape().dimension() - 1).toType(DataType.FLOAT32, false).toFloatArray();
    }

    /** {@code x · Wᵀ + b} with {@code W} in nn.Linear's {@code [out, in]} layout (one native op: torch.linear). */
    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return bias == null ? Linear.linear(x, weight).singletonOrThrow()
                : Linear.linear(x, weight, bias).singletonOrThrow();
    }

    /**
     * Turns the Java decode step off or on again (tests compare it with the tensor path); a no-op where it is not
     * available.
     */
    void useJavaDecode(boolean on) {
        javaDecode = on && decoder != null;
    }

    /** Whether decode steps run in Java ({@link JavaDecode}). */
    public boolean javaDecode() {
        return javaDecode;
    }

    /**
     * Whether a forward of {@code rows} new tokens (over all its sequences, logits at the last ones) runs one row per
     * token, with no padding: then decode rows and prompt pieces cost no more together than apart.
     */
    public boolean forwardsInRows(int rows) {
        return javaDecode && rows <= StepDecoder.MAX_ROWS;
    }

    /** NDArrays alive under this model's manager (weights, tables, caches): for leak checks. */
    public int liveArrays() {
        return countArrays(manager);
    }

    private static int countArrays(NDManager m) {
        return ((ai.djl.ndarray.BaseNDManager) m).getManagedArrays().size();
    }

    @Override
    public void close() {
        if (decoder != null) {
            decoder.close();
        }
        if (pool != null) {
            pool.close();
        }
        epsilon.close();
        if (rotary != null) {
            rotary.close();
        }
        weights.close();
        manager.close();
    }
}
