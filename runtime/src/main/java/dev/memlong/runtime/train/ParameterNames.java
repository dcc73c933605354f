package dev.memlong.runtime.train;

import dev.memlong.runtime.config.ModelConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Hugging Face tensor names of a LLaMA-family decoder and of its LoRA adapters (PEFT's spelling, without the prefix). */
public final class ParameterNames {

    public static final String EMBEDDING = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";
    /** The attention projections LoRA adapts. */
    public static final List<String> LORA_TARGETS = List.of("q_proj", "k_proj", "v_proj", "o_proj");
    /** PEFT's prefix for adapter tensors in {@code adapter_model.safetensors}. */
    public static final String PEFT_PREFIX = "base_model.model.";

    private ParameterNames() {}

    public static String layer(int i, String rest) {
        return "model.layers." + i + "." + rest;
    }

    public static String projection(int i, String proj) {
        return layer(i, (proj.startsWith("q") || proj.startsWith("k") || proj.startsWith("v") || proj.startsWith("o")
                ? "self_attn." : "mlp.") + proj + ".weight");
    }

    public static String loraA(int i, String proj) {
        return projection(i, proj).replace(".weight", ".lora_A.weight");
    }

    public static String loraB(int i, String proj) {
        return projection(i, proj).replace(".weight", ".lora_B.weight");
    }

    /** The layer a tensor name belongs to, or -1 for embeddings, final norm and lm_head. */
    public static int layerOf(String name) {
        if (!name.startsWith("model.layers.")) {
            return -1;
        }
        int start = "model.layers.".length();
        return Integer.parseInt(name.substring(start, name.indexOf('.', start)));
    }

    /** Every base tensor of the model with its shape, in checkpoint order ({@code lm_head} left out when tied). */
    public static Map<String, long[]> baseShapes(ModelConfig c, boolean lmHeadPresent) {
        Map<String, long[]> s = new LinkedHashMap<>();
        int h = c.hiddenSize();
        int q = c.numHeads() * c.headDim();
        int kv = c.numKvHeads() * c.headDim();
        int inter = c.intermediateSize();
        s.put(EMBEDDING, new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            s.put(layer(i, "input_layernorm.weight"), new long[] {h});
            s.put(projection(i, "q_proj"), new long[] {q, h});
            s.put(projection(i, "k_proj"), new long[] {kv, h});
            s.put(projection(i, "v_proj"), new long[] {kv, h});
            if (c.qkvBias()) {
                s.put(layer(i, "self_attn.q_proj.bias"), new long[] {q});
                s.put(layer(i, "self_attn.k_proj.bias"), new long[] {kv});
                s.put(layer(i, "self_attn.v_proj.bias"), new long[] {kv});
            }
            s.put(projection(i, "o_proj"), new long[] {h, q});
            if (c.outputBias()) {
                s.put(layer(i, "self_attn.o_proj.bias"), new long[] {h});
            }
            s.put(layer(i, "post_attention_layernorm.weight"), new long[] {h});
            s.put(projection(i, "gate_proj"), new long[] {inter, h});
            s.put(projection(i, "up_proj"), new long[] {inter, h});
            s.put(projection(i, "down_proj"), new long[] {h, inter});
            if (c.mlpBias()) {
                s.put(layer(i, "mlp.gate_proj.bias"), new long[] {inter});
                s.put(layer(i, "mlp.up_proj.bias"), new long[] {inter});
                s.put(layer(i, "mlp.down_proj.bias"), new long[] {h});
            }
        }
        s.put(FINAL_NORM, new long[] {h});
        if (lmHeadPresent) {
            s.put(LM_HEAD, new long[] {c.vocabSize(), h});
        }
        return s;
    }

    /** Names of the norm weights and biases (no weight decay). */
    public static boolean isVector(String name, long[] shape) {
        return shape.length == 1;
    }

    static List<String> layerNames(Map<String, long[]> shapes, int layer) {
        List<String> out = new ArrayList<>();
        for (String n : shapes.keySet()) {
            if (layerOf(n) == layer) {
                out.add(n);
            }
        }
        return out;
    }
}
