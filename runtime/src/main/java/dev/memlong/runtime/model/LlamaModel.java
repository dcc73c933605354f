package dev.memlong.runtime.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.memlong.runtime.checkpoint.Checkpoints;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.engine.Engines;
import java.nio.file.Path;
import java.util.List;

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

    private final ModelConfig config;
    private final NDManager manager;
    private final ModelWeights weights;
    private final DataType computeType;
    private RotaryTable rotary;

    private LlamaModel(ModelConfig config, NDManager manager, ModelWeights weights, DataType computeType) {
        this.config = config;
        this.manager = manager;
        this.weights = weights;
        this.computeType = computeType;
        ensureRotary(Math.min(config.maxPositionEmbeddings(), 4096));
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
            return new LlamaModel(config, manager, weights, options.computeType());
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

    /** A cache for {@code slots} sequences of up to {@code capacity} tokens each. */
    public KvCachePool newCache(int slots, int capacity) {
        if (capacity > config.slidingWindow()) {
            throw new IllegalArgumentException("a cache of " + capacity + " tokens exceeds the model's sliding window of "
                    + config.slidingWindow() + "; attention here is full, which only agrees with it within the window");
        }
        ensureRotary(capacity);
        return new KvCachePool(manager, config.numLayers(), slots, capacity, config.numKvHeads(), config.headDim(), computeType);
    }

    private void ensureRotary(int capacity) {
        if (rotary == null || rotary.positions() < capacity + 1) {
            if (rotary != null) {
                rotary.close();
            }
            rotary = new RotaryTable(manager, config.rope(), capacity + 1);
        }
    }

    /** Logits at every position of {@code ids}, from an empty cache: {@code [ids.length][vocab]}. */
    public float[][] forwardLogits(int[] ids) {
        try (KvCachePool cache = newCache(1, ids.length)) {
            return forward(cache, List.of(new SequenceStep(0, ids)), true)[0];
        }
    }

    /**
     * Runs new tokens of several sequences through the model, appending them to their cache slots.
     *
     * @param allPositions true for logits at every new token, false for the last new token of each sequence only
     * @return {@code [sequence][position][vocab]}; with {@code allPositions=false} one position per sequence
     */
    public float[][][] forward(KvCachePool cache, List<SequenceStep> steps, boolean allPositions) {
        ForwardBatch batch = ForwardBatch.of(cache, steps);
        float[][][] result;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDManager m = manager;
            NDArray x = weights.embedding.get(m.create(batch.tokenIds(), new Shape(batch.size(), batch.width())));
            NDArray positions = m.create(batch.positions());
            NDArray cos = rotary.cos(positions).reshape(batch.size(), batch.width(), 1, config.headDim());
            NDArray sin = rotary.sin(positions).reshape(batch.size(), batch.width(), 1, config.headDim());
            NDArray mask = batch.needsMask() ? m.create(batch.mask(), new Shape(batch.size(), 1, 1, batch.width(), batch.span())) : null;
            NDIndex write = new NDIndex("{}, :, {}", m.create(batch.writeSlots()), m.create(batch.writePositions()));
            NDIndex read = batch.contiguousSlots()
                    ? new NDIndex("0:" + batch.size() + ", :, 0:" + batch.span())
                    : new NDIndex("{}, :, 0:" + batch.span(), m.create(batch.slots()));
            if (computeType != DataType.FLOAT32) {
                cos = cos.toType(computeType, false);
                sin = sin.toType(computeType, false);
            }
            for (int i = 0; i < config.numLayers(); i++) {
                x = layer(i, x, cache, batch, cos, sin, mask, write, read);
            }
            x = rmsNorm(x, weights.finalNorm);
            if (!allPositions) {
                x = x.reshape(batch.size() * (long) batch.width(), config.hiddenSize()).get(m.create(batch.lastTokenRows()));
            }
            NDArray logits = linear(x, weights.lmHead, null).toType(DataType.FLOAT32, false);
            result = batch.unpackLogits(logits.toFloatArray(), allPositions, config.vocabSize());
        }
        batch.commit(cache);
        return result;
    }

    private NDArray layer(int index, NDArray x, KvCachePool cache, ForwardBatch batch, NDArray cos, NDArray sin,
                          NDArray mask, NDIndex write, NDIndex read) {
        LayerWeights w = weights.layers.get(index);
        int b = batch.size();
        int t = batch.width();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int d = config.headDim();

        NDArray qkv = linear(rmsNorm(x, w.inputNorm()), w.qkv(), w.qkvBias());
        NDList qkAndV = qkv.split(new long[] {(long) (heads + kvHeads) * d}, 2);
        NDArray qk = rotate(qkAndV.get(0).reshape(b, t, heads + kvHeads, d), cos, sin);
        NDList qAndK = qk.split(new long[] {heads}, 2);
        NDArray q = qAndK.get(0);                                   // [B, T, H, D]
        NDArray k = qAndK.get(1);                                   // [B, T, KV, D]
        NDArray v = qkAndV.get(1).reshape(b, t, kvHeads, d);

        long rows = (long) b * t;
        NDArray keys = cache.keys(index);
        NDArray values = cache.values(index);
        keys.set(write, k.reshape(rows, kvHeads, d));
        values.set(write, v.reshape(rows, kvHeads, d));
        NDArray kAll = keys.get(read);                              // [B, KV, S, D]
        NDArray vAll = values.get(read);

        NDArray attn = attention(q, kAll, vAll, mask, b, t, batch.span());
        x = x.add(linear(attn, w.out(), w.outBias()));

        NDArray gateUp = linear(rmsNorm(x, w.postNorm()), w.gateUp(), w.gateUpBias());
        NDList gu = gateUp.split(2, 2);
        NDArray gate = gu.get(0);
        NDArray act = gate.mul(Activation.sigmoid(gate)).mul(gu.get(1));
        return x.add(linear(act, w.down(), w.downBias()));
    }

    /**
     * Causal grouped-query attention of {@code q [B,T,H,D]} over {@code k, v [B,KV,S,D]}. Query heads are grouped
     * under their KV head ({@code [B, KV, G*T, D]}) so K and V are never repeated in memory. The softmax runs in
     * float32 whatever the compute type.
     */
    private NDArray attention(NDArray q, NDArray k, NDArray v, NDArray mask, int b, int t, int span) {
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int groups = config.groups();
        int d = config.headDim();
        NDArray qg = q.transpose(0, 2, 1, 3).reshape(b, kvHeads, (long) groups * t, d);
        NDArray scores = qg.matMul(k.transpose(0, 1, 3, 2)).mul(1.0 / Math.sqrt(d));
        if (computeType != DataType.FLOAT32) {
            scores = scores.toType(DataType.FLOAT32, false);
        }
        scores = scores.reshape(b, kvHeads, groups, t, span);
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray probs = scores.softmax(-1).reshape(b, kvHeads, (long) groups * t, span);
        if (computeType != DataType.FLOAT32) {
            probs = probs.toType(computeType, false);
        }
        NDArray out = probs.matMul(v);                               // [B, KV, G*T, D]
        return out.reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
    }

    /** Rotary embedding as transformers applies it: {@code x*cos + rotate_half(x)*sin}. */
    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        NDList halves = x.split(2, 3);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        return x.mul(cos).add(rotated.mul(sin));
    }

    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray xf = computeType == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray normed = xf.mul(xf.square().mean(new int[] {-1}, true).add(config.rmsNormEps()).pow(-0.5));
        if (computeType != DataType.FLOAT32) {
            normed = normed.toType(computeType, false);
        }
        return normed.mul(weight);
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
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
        if (rotary != null) {
            rotary.close();
        }
        weights.close();
        manager.close();
    }
}
