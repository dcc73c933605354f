package dev.memlong.examples.bench;

/**
 * The two ceilings a decoder run on this machine cannot beat, and how close a measurement came.
 *
 * <ul>
 *   <li>Batch-1 decode is memory-bound: each token reads every layer weight, the final norm and the LM head once
 *   ({@link #decodeBytesPerToken}); the embedding table is not counted since a token reads one row of it. With a tied
 *   embedding the LM head is that table, read whole for the logits, so it is counted once, as the head.</li>
 *   <li>Prefill is compute-bound: {@link #prefillFlops} counts 2 FLOPs per multiply-add of every layer matmul for each
 *   prompt token, causal attention (QK<sup>T</sup> and PV over the keys each query may see), and the LM head for the
 *   last token only, since a prefill needs the next token's logits alone (both runtimes compute only those).</li>
 * </ul>
 */
public final class Roofline {

    private Roofline() {}

    /** Bytes of float32 weights one decode step reads. */
    public static long decodeBytesPerToken(ModelShape s) {
        long params = s.layers() * s.layerParameters() + s.hidden() + s.embeddingParameters();
        return params * Float.BYTES;
    }

    /** Bytes of float32 keys and values one cached token holds (every layer): what attention reads per token. */
    public static long kvBytesPerToken(ModelShape s) {
        return kvBytesPerToken(s, Float.BYTES);
    }

    /** {@link #kvBytesPerToken(ModelShape)} for a cache of {@code elementBytes} per element (2: bfloat16). */
    public static long kvBytesPerToken(ModelShape s, int elementBytes) {
        return 2L * s.layers() * s.kvHeads() * s.headDim() * elementBytes;
    }

    /** Tokens/s if weight reads ran at {@code bytesPerSecond}. */
    public static double decodeTokensPerSecond(ModelShape s, double bytesPerSecond) {
        return bytesPerSecond / decodeBytesPerToken(s);
    }

    /** Attention FLOPs of a causal prefill of {@code tokens}: query i sees i+1 keys; 2 FLOPs per MAC in QK and PV. */
    public static double attentionFlops(ModelShape s, int tokens) {
        double pairs = (double) tokens * (tokens + 1) / 2;
        return (double) s.layers() * 2 * 2 * s.hidden() * pairs;
    }

    /** FLOPs of a prefill of {@code tokens}: layer matmuls for every token, attention, LM head for the last token. */
    public static double prefillFlops(ModelShape s, int tokens) {
        double matmuls = 2.0 * s.layers() * s.layerMatmulParameters() * tokens;
        double head = 2.0 * s.embeddingParameters();
        return matmuls + attentionFlops(s, tokens) + head;
    }

    /** Prompt tokens/s if every FLOP ran at {@code flopsPerSecond}. */
    public static double prefillTokensPerSecond(ModelShape s, int tokens, double flopsPerSecond) {
        return tokens / (prefillFlops(s, tokens) / flopsPerSecond);
    }

    /** {@code measured / ceiling}. */
    public static double fraction(double measured, double ceiling) {
        return measured / ceiling;
    }
}
