package dev.memlong.examples.bench;

import dev.memlong.runtime.checkpoint.SafetensorsWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Seeded random float32 weights for a {@link ModelShape}, by Hugging Face LLaMA tensor names, scaled like the test
 * fixtures: the embedding ~N(0, 0.08), projections ~N(0, 0.02), norm weights ~1 (1 + N(0, 0.02)).
 *
 * <p>Each tensor has its own stream (seed mixed with the tensor's index), so a tensor's values do not depend on the
 * order in which tensors are generated; bytes are produced one tensor at a time, never the whole model.
 */
final class RandomWeights {

    static final double EMBEDDING_STD = 0.08;
    static final double PROJECTION_STD = 0.02;
    static final double NORM_STD = 0.02;

    private final ModelShape shape;
    private final long seed;
    private final List<SafetensorsWriter.Tensor> tensors;

    RandomWeights(ModelShape shape, long seed) {
        this.shape = shape;
        this.seed = seed;
        this.tensors = List.copyOf(layout(shape));
    }

    /** The tensors in file order: embedding, then each layer, then the final norm (and the LM head when untied). */
    List<SafetensorsWriter.Tensor> tensors() {
        return tensors;
    }

    private static List<SafetensorsWriter.Tensor> layout(ModelShape s) {
        long h = s.hidden();
        long kv = (long) s.kvHeads() * s.headDim();
        long inter = s.intermediate();
        List<SafetensorsWriter.Tensor> t = new ArrayList<>();
        t.add(f32("model.embed_tokens.weight", s.vocab(), h));
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            t.add(f32(p + "input_layernorm.weight", h));
            t.add(f32(p + "self_attn.q_proj.weight", h, h));
            t.add(f32(p + "self_attn.k_proj.weight", kv, h));
            t.add(f32(p + "self_attn.v_proj.weight", kv, h));
            t.add(f32(p + "self_attn.o_proj.weight", h, h));
            t.add(f32(p + "post_attention_layernorm.weight", h));
            t.add(f32(p + "mlp.gate_proj.weight", inter, h));
            t.add(f32(p + "mlp.up_proj.weight", inter, h));
            t.add(f32(p + "mlp.down_proj.weight", h, inter));
        }
        t.add(f32("model.norm.weight", h));
        if (!s.tiedEmbedding()) {
            t.add(f32("lm_head.weight", s.vocab(), h));
        }
        return t;
    }

    private static SafetensorsWriter.Tensor f32(String name, long... dims) {
        return new SafetensorsWriter.Tensor(name, "F32", dims);
    }

    /** The little-endian bytes of one tensor. */
    ByteBuffer bytes(String name) {
        int index = indexOf(name);
        SafetensorsWriter.Tensor t = tensors.get(index);
        long n = 1;
        for (long d : t.shape()) {
            n *= d;
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(n * Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer floats = buf.asFloatBuffer();
        SplittableRandom random = new SplittableRandom(seed * 1_000_003L + index);
        boolean norm = name.endsWith("norm.weight");
        double std = norm ? NORM_STD : name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight")
                ? EMBEDDING_STD : PROJECTION_STD;
        double mean = norm ? 1.0 : 0.0;
        for (long i = 0; i < n; i++) {
            floats.put((float) (mean + std * random.nextGaussian()));
        }
        return buf;
    }

    private int indexOf(String name) {
        for (int i = 0; i < tensors.size(); i++) {
            if (tensors.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("no tensor " + name + " in a " + shape);
    }
}
