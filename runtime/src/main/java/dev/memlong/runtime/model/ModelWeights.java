package dev.memlong.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.checkpoint.TensorInfo;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.config.ModelConfig;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * All parameters of a LLaMA-family decoder, read by Hugging Face tensor names, checked for presence, dtype
 * and shape, and kept in one NDManager owned by the model.
 */
final class ModelWeights implements AutoCloseable {

    final NDArray embedding;  // [vocab, hidden]
    /** Replaced with the upper layers by {@link #replaceUpper}; read by the forward on the model's one thread. */
    NDArray finalNorm;        // [hidden]
    final NDArray lmHead;     // [vocab, hidden] (nn.Linear's layout): the embedding itself when tied
    /** Per layer; entries above a memory layer are replaced by {@link #replaceUpper}, the others never change. */
    final LayerWeights[] layers;
    private final boolean tied;
    private final NDManager manager;
    private final ModelConfig config;
    private final DataType computeType;

    private ModelWeights(NDManager manager, ModelConfig config, DataType computeType, NDArray embedding,
                         NDArray finalNorm, NDArray lmHead, boolean tied, LayerWeights[] layers) {
        this.tied = tied;
        this.manager = manager;
        this.config = config;
        this.computeType = computeType;
        this.embedding = embedding;
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
        this.layers = layers;
    }

    static ModelWeights load(WeightSource src, ModelConfig cfg, NDManager manager, DataType computeType) {
        Loader l = new Loader(src, manager, computeType);
        int h = cfg.hiddenSize();
        NDArray embedding = l.tensor("model.embed_tokens.weight", cfg.vocabSize(), h);
        NDArray finalNorm = l.tensor("model.norm.weight", h);
        NDArray lmHead;
        if (cfg.tieWordEmbeddings() && !src.tensors().containsKey("lm_head.weight")) {
            lmHead = null; // the embedding, once cast
        } else {
            lmHead = l.tensor("lm_head.weight", cfg.vocabSize(), h);
        }
        LayerWeights[] layers = new LayerWeights[cfg.numLayers()];
        for (int i = 0; i < cfg.numLayers(); i++) {
            layers[i] = layer(l, cfg, i);
        }
        embedding = l.cast(embedding);
        finalNorm = l.cast(finalNorm);
        boolean tied = lmHead == null;
        lmHead = tied ? embedding : l.cast(lmHead);
        return new ModelWeights(manager, cfg, computeType, embedding, finalNorm, lmHead, tied, layers);
    }

    /** One layer's weights, read from {@code l}'s source and rewritten into the forward's layout. */
    private static LayerWeights layer(Loader l, ModelConfig cfg, int i) {
        int h = cfg.hiddenSize();
        int qOut = cfg.numHeads() * cfg.headDim();
        int kvOut = cfg.numKvHeads() * cfg.headDim();
        int inter = cfg.intermediateSize();
        float qScale = (float) (1.0 / Math.sqrt(cfg.headDim()));
        String p = "model.layers." + i + ".";
        NDArray inputNorm = l.tensor(p + "input_layernorm.weight", h);
        NDArray postNorm = l.tensor(p + "post_attention_layernorm.weight", h);
        NDArray q = l.scaled(l.tensor(p + "self_attn.q_proj.weight", qOut, h), qScale);
        NDArray qkv = l.folded(l.fused(0, q, l.tensor(p + "self_attn.k_proj.weight", kvOut, h),
                l.tensor(p + "self_attn.v_proj.weight", kvOut, h)), inputNorm);
        NDArray qkvBias = cfg.qkvBias() ? l.fused(0, l.scaled(l.tensor(p + "self_attn.q_proj.bias", qOut), qScale),
                l.tensor(p + "self_attn.k_proj.bias", kvOut), l.tensor(p + "self_attn.v_proj.bias", kvOut)) : null;
        NDArray out = l.tensor(p + "self_attn.o_proj.weight", h, qOut);
        NDArray outBias = cfg.outputBias() ? l.tensor(p + "self_attn.o_proj.bias", h) : null;
        NDArray gateUp = l.folded(l.fused(0, l.tensor(p + "mlp.gate_proj.weight", inter, h),
                l.tensor(p + "mlp.up_proj.weight", inter, h)), postNorm);
        NDArray gateUpBias = cfg.mlpBias()
                ? l.fused(0, l.tensor(p + "mlp.gate_proj.bias", inter), l.tensor(p + "mlp.up_proj.bias", inter)) : null;
        NDArray down = l.tensor(p + "mlp.down_proj.weight", h, inter);
        NDArray downBias = cfg.mlpBias() ? l.tensor(p + "mlp.down_proj.bias", h) : null;
        return new LayerWeights(l.cast(inputNorm), l.cast(qkv), l.cast(qkvBias), l.cast(out), l.cast(outBias),
                l.cast(postNorm), l.cast(gateUp), l.cast(gateUpBias), l.cast(down), l.cast(downBias));
    }

    /**
     * Replaces layers {@code firstLayer..L-1} and the final norm with those of {@code src} (the embedding, the
     * layers below {@code firstLayer} and {@code lm_head} are not touched: the same arrays keep serving). Every new
     * tensor is read and checked before anything is replaced, so a bad source leaves the weights as they were;
     * then the old arrays are freed.
     */
    void replaceUpper(WeightSource src, int firstLayer) {
        if (firstLayer < 1 || firstLayer > layers.length) {
            throw new IllegalArgumentException("upper layers start at " + firstLayer + ", not within 1.."
                    + layers.length);
        }
        Loader l = new Loader(src, manager, computeType);
        LayerWeights[] fresh = new LayerWeights[layers.length - firstLayer];
        NDArray norm = null;
        try {
            for (int i = firstLayer; i < layers.length; i++) {
                fresh[i - firstLayer] = layer(l, config, i);
            }
            norm = l.cast(l.tensor("model.norm.weight", config.hiddenSize()));
        } catch (RuntimeException e) {
            for (LayerWeights w : fresh) {
                close(w);
            }
            if (norm != null) {
                norm.close();
            }
            throw e;
        }
        for (int i = firstLayer; i < layers.length; i++) {
            close(layers[i]);
            layers[i] = fresh[i - firstLayer];
        }
        finalNorm.close();
        finalNorm = norm;
    }

    private static void close(LayerWeights w) {
        if (w == null) {
            return;
        }
        for (NDArray a : w.arrays()) {
            a.close();
        }
    }

    /** Reads tensors one at a time into the model's manager, validating each against the config. */
    private record Loader(WeightSource src, NDManager manager, DataType computeType) {

        NDArray tensor(String name, long... expectedShape) {
            TensorInfo info = src.tensors().get(name);
            if (info == null) {
                throw new CheckpointException("missing tensor " + name + " in " + src.description());
            }
            if (!Arrays.equals(info.shape(), expectedShape)) {
                throw new CheckpointException("tensor " + name + " in " + info.file() + " has shape "
                        + Arrays.toString(info.shape()) + ", but config.json implies " + Arrays.toString(expectedShape));
            }
            ByteBuffer data = src.readFloat32(name);
            return manager.create(data.asFloatBuffer(), new Shape(expectedShape), DataType.FLOAT32);
        }

        /** Converts a float32 weight to the compute type (after any folding, which is done in float32). */
        NDArray cast(NDArray a) {
            if (a == null || computeType == DataType.FLOAT32) {
                return a;
            }
            NDArray c = a.toType(computeType, false);
            a.close();
            return c;
        }

        /** Multiplies by a constant, freeing the input. */
        NDArray scaled(NDArray a, float factor) {
            NDArray s = a.mul(factor);
            a.close();
            return s;
        }

        /**
         * Folds an RMSNorm weight into the projection that follows it: {@code W · diag(g)}, so the forward pass
         * normalises without the elementwise multiply (one op fewer per norm, per layer, per step).
         */
        NDArray folded(NDArray projection, NDArray normWeight) {
            NDArray f = projection.mul(normWeight);
            projection.close();
            return f;
        }

        /** Concatenates along {@code axis} and frees the parts, so the parts never outlive the load. */
        NDArray fused(int axis, NDArray... parts) {
            NDArray f = NDArrays.concat(new NDList(parts), axis);
            for (NDArray p : parts) {
                p.close();
            }
            return f;
        }
    }

    /** Total parameter count. */
    long parameterCount() {
        long n = embedding.size() + finalNorm.size() + (tied ? 0 : lmHead.size());
        for (LayerWeights w : layers) {
            for (NDArray a : w.arrays()) {
                n += a.size();
            }
        }
        return n;
    }

    @Override
    public void close() {
        manager.close();
    }
}
