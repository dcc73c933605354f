package dev.memlong.examples.bench;

/**
 * The dimensions of a LLaMA-shaped decoder (SiLU MLP, RMSNorm, no biases) and the counts that follow from them.
 *
 * @param vocab         vocabulary size
 * @param hidden        model width
 * @param layers        decoder layers
 * @param heads         attention heads
 * @param kvHeads       key/value heads (grouped-query attention when fewer than {@code heads})
 * @param intermediate  MLP width
 * @param tiedEmbedding whether the LM head is the embedding table (no {@code lm_head.weight} tensor)
 */
public record ModelShape(int vocab, int hidden, int layers, int heads, int kvHeads, int intermediate,
                         boolean tiedEmbedding) {

    public ModelShape {
        if (vocab <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || intermediate <= 0) {
            throw new IllegalArgumentException("every dimension must be positive");
        }
        if (hidden % heads != 0 || heads % kvHeads != 0) {
            throw new IllegalArgumentException("hidden must divide by heads and heads by kvHeads");
        }
    }

    /**
     * The benchmark model: hidden 768, 12 layers, 12 heads (12 KV heads), MLP 2048, vocabulary 32000, tied embedding
     * (109.5M parameters; an untied head would make it 134M).
     */
    public static ModelShape llama110m() {
        return new ModelShape(32000, 768, 12, 12, 12, 2048, true);
    }

    public int headDim() {
        return hidden / heads;
    }

    /** Weights of one decoder layer: q, k, v, o projections, gate/up/down projections and the two norms. */
    public long layerParameters() {
        long kv = (long) kvHeads * headDim();
        long attention = 2L * hidden * hidden + 2L * hidden * kv;
        long mlp = 3L * hidden * intermediate;
        return attention + mlp + 2L * hidden;
    }

    /** Matmul weights of one layer (the layer without its norms). */
    public long layerMatmulParameters() {
        return layerParameters() - 2L * hidden;
    }

    public long embeddingParameters() {
        return (long) vocab * hidden;
    }

    /** Total parameters as the checkpoint stores them. */
    public long parameters() {
        return embeddingParameters() * (tiedEmbedding ? 1 : 2) + layers * layerParameters() + hidden;
    }
}
