package dev.memlong.runtime.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import dev.memlong.runtime.config.ModelConfig;
import java.util.Arrays;
import java.util.function.Function;

/**
 * A differentiable LLaMA-family forward on DJL NDArray ops: the same function as the inference decoder
 * ({@code model.LlamaModel}) computes, MemLong's retrieval attention included, but with unfused weights by
 * Hugging Face name, optional LoRA adapters, and no cache (a training segment attends to itself and to its
 * retrieved memory). Stateless; every array it creates belongs to the caller's manager.
 */
public final class TrainingForward {

    /** Which layers attend to memory, and the layer whose K/V memory stores. */
    private final int memoryLayer;
    private final boolean[] retrievalLayer;
    private final ModelConfig config;
    private final int[] loraFrom; // per layer: whether it has adapters (1) or not (0)
    private final float loraScale;

    /**
     * @param retrievalLayers layers that attend to memory (ignored by forwards without memory)
     * @param lora            the adapters' settings, or null for none
     * @param firstLoraLayer  lowest layer with adapters
     */
    public TrainingForward(ModelConfig config, int memoryLayer, int[] retrievalLayers, LoraSettings lora,
                           int firstLoraLayer) {
        this.config = config;
        this.memoryLayer = memoryLayer;
        this.retrievalLayer = new boolean[config.numLayers()];
        for (int l : retrievalLayers) {
            retrievalLayer[l] = true;
        }
        this.loraFrom = new int[config.numLayers()];
        if (lora != null) {
            Arrays.fill(loraFrom, Math.min(firstLoraLayer, config.numLayers()), config.numLayers(), 1);
        }
        this.loraScale = lora == null ? 0 : lora.scale();
    }

    /** A forward's input beyond parameters: tokens, the rotary offset, memory and dropout. */
    public record Input(long[] tokens, int batch, int width, int positionOffset, SegmentMemory memory,
                        DropoutMasks dropout) {
        public Input {
            if (tokens.length != batch * width) {
                throw new IllegalArgumentException(tokens.length + " tokens for a " + batch + "x" + width + " batch");
            }
        }
    }

    /** Dropout masks for the adapters' inputs: {@code [B, T, in]} arrays of 0 and {@code 1/(1-p)}, or null for none. */
    @FunctionalInterface
    public interface DropoutMasks {
        NDArray mask(NDManager manager, int layer, String projection, int inFeatures);
    }

    /**
     * The output of a forward.
     *
     * @param logits       {@code [B, T, vocab]}
     * @param memoryKeys   the memory layer's pre-RoPE keys, {@code [B, T, KV, D]}
     * @param memoryValues the memory layer's values, {@code [B, T, KV, D]}
     */
    public record Output(NDArray logits, NDArray memoryKeys, NDArray memoryValues) {}

    public Output forward(Function<String, NDArray> p, NDManager m, Input in) {
        LayerOut top = layers(p, m, in, config.numLayers() - 1);
        NDArray x = rmsNorm(m, top.x, p.apply(ParameterNames.FINAL_NORM));
        NDArray logits = linear(x, p.apply(ParameterNames.LM_HEAD), null);
        return new Output(logits, top.preRopeK, top.v);
    }

    /**
     * Layers 0..memoryLayer only, for memory recomputed in the graph: the memory layer's pre-RoPE keys and values,
     * each {@code [B, T, KV, D]} (the layers above and the head would be computed for nothing).
     */
    public NDArray[] forwardToMemoryLayer(Function<String, NDArray> p, NDManager m, Input in) {
        if (in.memory() != null) {
            throw new IllegalArgumentException("memory is recomputed without memory of its own");
        }
        LayerOut out = layers(p, m, in, memoryLayer);
        return new NDArray[] {out.preRopeK, out.v};
    }

    /** Embedding and layers 0..{@code last}: the last layer's output, with the memory layer's K/V (if it ran). */
    private LayerOut layers(Function<String, NDArray> p, NDManager m, Input in, int last) {
        int b = in.batch();
        int t = in.width();
        NDArray ids = m.create(in.tokens(), new Shape(b, t));
        NDArray x = ids.getNDArrayInternal().embedding(ids, p.apply(ParameterNames.EMBEDDING), SparseFormat.DENSE)
                .singletonOrThrow();
        NDArray[] cosSin = rotary(m, t, in.positionOffset());
        NDArray localMask = causalMask(m, t);
        NDArray memoryMask = in.memory() == null ? null : in.memory().mask(m, t);
        NDArray memK = null;
        NDArray memV = null;
        for (int i = 0; i <= last; i++) {
            LayerOut out = layer(p, m, i, x, cosSin, localMask, memoryMask, in);
            x = out.x;
            if (i == memoryLayer) {
                memK = out.preRopeK;
                memV = out.v;
            }
        }
        return new LayerOut(x, memK, memV);
    }

    private record LayerOut(NDArray x, NDArray preRopeK, NDArray v) {}

    private LayerOut layer(Function<String, NDArray> p, NDManager m, int i, NDArray x, NDArray[] cosSin,
                           NDArray localMask, NDArray memoryMask, Input in) {
        int b = in.batch();
        int t = in.width();
        int heads = config.numHeads();
        int kvHeads = config.numKvHeads();
        int d = config.headDim();
        NDArray h = rmsNorm(m, x, p.apply(ParameterNames.layer(i, "input_layernorm.weight")));
        NDArray q = projection(p, m, i, "q_proj", h, config.qkvBias(), in).reshape(b, t, heads, d);
        NDArray kPlain = projection(p, m, i, "k_proj", h, config.qkvBias(), in).reshape(b, t, kvHeads, d);
        NDArray v = projection(p, m, i, "v_proj", h, config.qkvBias(), in).reshape(b, t, kvHeads, d);
        q = rotate(q, cosSin[0], cosSin[1]);
        NDArray k = rotate(kPlain, cosSin[0], cosSin[1]);

        int groups = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(d));
        NDArray qg = q.transpose(0, 2, 1, 3).reshape(b, kvHeads, (long) groups * t, d);
        NDArray kt = k.transpose(0, 2, 3, 1);                     // [B, KV, D, T]
        NDArray vt = v.transpose(0, 2, 1, 3);                     // [B, KV, T, D]
        NDArray scores = qg.matMul(kt);
        boolean withMemory = in.memory() != null && retrievalLayer[i];
        NDArray mask = localMask;
        long columns = t;
        if (withMemory) {
            scores = qg.matMul(in.memory().keys().transpose(0, 1, 3, 2)).concat(scores, 3);
            mask = memoryMask;
            columns += in.memory().width();
        }
        NDArray probs = scores.mul(scalar(m, scale)).reshape(b, kvHeads, groups, t, columns).add(mask).softmax(-1)
                .reshape(b, kvHeads, (long) groups * t, columns);
        NDArray attn;
        if (withMemory) {
            NDList parts = probs.split(new long[] {in.memory().width()}, 3);
            attn = parts.get(0).matMul(in.memory().values()).add(parts.get(1).matMul(vt));
        } else {
            attn = probs.matMul(vt);
        }
        attn = attn.reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
        x = x.add(projection(p, m, i, "o_proj", attn, config.outputBias(), in));

        NDArray h2 = rmsNorm(m, x, p.apply(ParameterNames.layer(i, "post_attention_layernorm.weight")));
        NDArray gate = projection(p, m, i, "gate_proj", h2, config.mlpBias(), in);
        NDArray up = projection(p, m, i, "up_proj", h2, config.mlpBias(), in);
        NDArray act = gate.mul(Activation.sigmoid(gate)).mul(up);
        x = x.add(projection(p, m, i, "down_proj", act, config.mlpBias(), in));
        return new LayerOut(x, kPlain, v);
    }

    private NDArray projection(Function<String, NDArray> p, NDManager m, int layer, String proj, NDArray x,
                               boolean bias, Input in) {
        String weight = ParameterNames.projection(layer, proj);
        NDArray y = linear(x, p.apply(weight), bias ? p.apply(weight.replace(".weight", ".bias")) : null);
        if (loraFrom[layer] == 0 || !ParameterNames.LORA_TARGETS.contains(proj)) {
            return y;
        }
        NDArray input = x;
        if (in.dropout() != null) {
            NDArray mask = in.dropout().mask(m, layer, proj, (int) x.getShape().get(2));
            if (mask != null) {
                input = x.mul(mask);
            }
        }
        NDArray delta = linear(linear(input, p.apply(ParameterNames.loraA(layer, proj)), null),
                p.apply(ParameterNames.loraB(layer, proj)), null);
        return y.add(delta.mul(scalar(m, loraScale)));
    }

    /** cos and sin rows for positions {@code offset .. offset+T-1}, computed as transformers does, {@code [1,T,1,D]}. */
    private NDArray[] rotary(NDManager m, int t, int offset) {
        float[] inv = config.rope().inverseFrequencies();
        int half = inv.length;
        int dim = 2 * half;
        float[] c = new float[t * dim];
        float[] s = new float[t * dim];
        for (int pos = 0; pos < t; pos++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) (pos + offset) * inv[i];
                float cv = (float) Math.cos(angle);
                float sv = (float) Math.sin(angle);
                c[pos * dim + i] = cv;
                c[pos * dim + half + i] = cv;
                s[pos * dim + i] = sv;
                s[pos * dim + half + i] = sv;
            }
        }
        return new NDArray[] {m.create(c, new Shape(1, t, 1, dim)), m.create(s, new Shape(1, t, 1, dim))};
    }

    /** Additive causal mask {@code [1, 1, 1, T, T]}. */
    private static NDArray causalMask(NDManager m, int t) {
        float[] mask = new float[t * t];
        for (int r = 0; r < t; r++) {
            Arrays.fill(mask, r * t + r + 1, (r + 1) * t, Float.NEGATIVE_INFINITY);
        }
        return m.create(mask, new Shape(1, 1, 1, t, t));
    }

    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
        NDList halves = x.split(2, 3);
        NDArray rotated = halves.get(1).neg().concat(halves.get(0), 3);
        return x.mul(cos).add(rotated.mul(sin));
    }

    private NDArray rmsNorm(NDManager m, NDArray x, NDArray weight) {
        NDArray normed = x.div(x.square().mean(new int[] {-1}, true).add(scalar(m, (float) config.rmsNormEps())).sqrt());
        return normed.mul(weight);
    }

    /**
     * A constant operand of the autograd graph, {@code []}-shaped, in memory PyTorch owns, attached to the step's
     * manager. Never use DJL's {@code Number} overloads ({@code x.mul(0.5f)}) in the graph: they wrap the number in a
     * tensor over a Java direct buffer and close it right after the op, while autograd keeps that tensor for the
     * backward (d(x·s)/dx = s); once a GC frees the buffer, the backward reads freed memory. Gradients then came out
     * NaN, 1e12 or plausible but wrong whenever a collection ran between forward and backward (the rare
     * "1 vs 2 workers" test failures; TrainerTest reproduces it with a thread forcing collections).
     */
    static NDArray scalar(NDManager m, float value) {
        return m.full(new Shape(), value);
    }

    static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
    }

    /** Summed next-token cross-entropy over {@code [B, T]} positions, targets {@code < 0} ignored. */
    public static NDArray crossEntropySum(NDManager m, NDArray logits, long[] targets) {
        return crossEntropySum(m, logits, targets, TargetWeights.NONE);
    }

    /**
     * Weighted summed next-token cross-entropy: {@code -Σ w(target) · log softmax(logits)[target]} over {@code [B, T]}
     * positions, targets {@code < 0} ignored ({@link TargetWeights#of}).
     */
    public static NDArray crossEntropySum(NDManager m, NDArray logits, long[] targets, TargetWeights w) {
        Shape s = logits.getShape();
        long[] clamped = new long[targets.length];
        float[] weights = new float[targets.length];
        for (int i = 0; i < targets.length; i++) {
            clamped[i] = Math.max(0, targets[i]);
            weights[i] = w.of(targets[i]);
        }
        NDArray logp = logits.logSoftmax(-1);
        NDArray picked = logp.gather(m.create(clamped, new Shape(s.get(0), s.get(1), 1)), 2)
                .reshape(s.get(0), s.get(1));
        return picked.mul(m.create(weights, new Shape(s.get(0), s.get(1)))).sum().neg();
    }

    static DataType type() {
        return DataType.FLOAT32;
    }
}
