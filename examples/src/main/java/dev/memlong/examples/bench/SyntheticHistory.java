package dev.memlong.examples.bench;

import dev.memlong.memory.KvCodec;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.NewChunk;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes a long conversation history straight into a memory bank, through {@link MemoryBank#append}, without running
 * the model over it (256k tokens through a 110M model would take hours on two cores). Each chunk is what window
 * overflow would store:
 * <ul>
 *   <li>token ids: {@code chunk} tokens of freshly generated {@link HistoryText} prose, encoded with the model's
 *       tokenizer; the chunk text is their decoding (as the runtime stores it);</li>
 *   <li>embedding: the real retriever's embedding of that text, batched, for the first {@code distinctTexts} chunks;
 *       later chunks reuse one of those embeddings with a small random perturbation, renormalised (real embedding of
 *       every chunk of a 256k history costs minutes on two cores; search cost does not depend on the values);</li>
 *   <li>keys and values: random, roughly Gaussian values with the RMS the model's memory layer really produces
 *       (measured by the caller on a real overflow), encoded in the bank's dtype.</li>
 * </ul>
 */
final class SyntheticHistory {

    /** Per-component standard deviation of the perturbation added to a reused embedding before renormalising. */
    static final double EMBEDDING_NOISE = 0.01;
    private static final int BATCH = 32;

    private final MemoryBank bank;
    private final Retriever retriever;
    private final TextTokenizer tokenizer;
    private final int chunk;
    private final int distinctTexts;
    private final float keyRms;
    private final float valueRms;
    private final SplittableRandom random;
    private final List<float[]> realEmbeddings = new ArrayList<>();
    private final float[] scratch;
    private long embedNanos;

    /**
     * @param distinctTexts chunks embedded for real before embeddings are reused
     * @param keyRms        RMS of the generated keys
     * @param valueRms      RMS of the generated values
     */
    SyntheticHistory(MemoryBank bank, Retriever retriever, TextTokenizer tokenizer, int chunk, int distinctTexts,
                     float keyRms, float valueRms, long seed) {
        this.bank = bank;
        this.retriever = retriever;
        this.tokenizer = tokenizer;
        this.chunk = chunk;
        this.distinctTexts = distinctTexts;
        this.keyRms = keyRms;
        this.valueRms = valueRms;
        this.random = new SplittableRandom(seed);
        KvLayout layout = bank.layout();
        this.scratch = new float[chunk * layout.kvHeads() * layout.headDim()];
    }

    /** Appends chunks until the bank holds at least {@code tokens} tokens. */
    void fillTo(long tokens) {
        while (bank.tokenCount() < tokens) {
            int n = (int) Math.min(BATCH, (tokens - bank.tokenCount() + chunk - 1) / chunk);
            appendBatch(n);
        }
    }

    /** Chunks whose embedding came from the retriever. */
    int realEmbeddings() {
        return realEmbeddings.size();
    }

    /** Time spent embedding chunk texts with the retriever. */
    long embedNanos() {
        return embedNanos;
    }

    private void appendBatch(int n) {
        List<int[]> ids = new ArrayList<>(n);
        List<String> texts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int[] chunkIds = chunkIds();
            ids.add(chunkIds);
            texts.add(tokenizer.decode(chunkIds, true));
        }
        int real = Math.max(0, Math.min(n, distinctTexts - realEmbeddings.size()));
        if (real > 0) {
            long t0 = System.nanoTime();
            float[][] e = retriever.embed(texts.subList(0, real));
            embedNanos += System.nanoTime() - t0;
            realEmbeddings.addAll(Arrays.asList(e).subList(0, real));
        }
        int base = realEmbeddings.size() - real;
        for (int i = 0; i < n; i++) {
            float[] embedding = i < real ? realEmbeddings.get(base + i)
                    : perturbed(realEmbeddings.get(random.nextInt(realEmbeddings.size())));
            bank.append(new NewChunk(ids.get(i), texts.get(i), embedding, randomKv(keyRms), randomKv(valueRms)));
        }
    }

    private int[] chunkIds() {
        int[] ids = new int[0];
        while (ids.length < chunk) {
            ids = tokenizer.encode(HistoryText.text(random, 6 * chunk), false);
        }
        return Arrays.copyOf(ids, chunk);
    }

    private float[] perturbed(float[] e) {
        float[] out = new float[e.length];
        double norm = 0;
        for (int i = 0; i < e.length; i++) {
            out[i] = (float) (e[i] + EMBEDDING_NOISE * approxGaussian(random.nextLong()));
            norm += out[i] * (double) out[i];
        }
        float inv = (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < out.length; i++) {
            out[i] *= inv;
        }
        return out;
    }

    /** {@code chunk} tokens of K (or V), values of RMS {@code rms}, in the bank's encoding. */
    private byte[] randomKv(float rms) {
        for (int i = 0; i < scratch.length; i++) {
            scratch[i] = (float) (rms * approxGaussian(random.nextLong()));
        }
        KvLayout layout = bank.layout();
        byte[] out = new byte[layout.kvBytes(chunk)];
        KvCodec.encode(scratch, 0, scratch.length, layout.dtype(), out, 0);
        return out;
    }

    /**
     * A standard-normal-like value from 64 random bits: the sum of four 16-bit uniforms, centred and scaled to unit
     * variance (Irwin-Hall, n = 4; bounded by +-3.46). About ten times cheaper than {@code nextGaussian}, which
     * matters for the 400M values of a 256k-token history.
     */
    static double approxGaussian(long bits) {
        double sum = 0;
        for (int j = 0; j < 4; j++) {
            sum += ((bits >>> (16 * j)) & 0xFFFF) + 0.5;
        }
        return (sum / 65536.0 - 2.0) * Math.sqrt(3.0);
    }
}
