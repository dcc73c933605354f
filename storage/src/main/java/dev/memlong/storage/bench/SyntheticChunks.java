package dev.memlong.storage.bench;

import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Deterministic synthetic memory chunks: everything (token ids, K/V bytes, embedding) is derived from the
 * chunk's text, so a reader can regenerate what must have been stored and compare byte for byte.
 */
public final class SyntheticChunks {

    private final KvLayout layout;
    private final int tokens;

    /**
     * @param layout K/V layout and embedding size of the chunks
     * @param tokens tokens per chunk
     */
    public SyntheticChunks(KvLayout layout, int tokens) {
        this.layout = layout;
        this.tokens = tokens;
    }

    public KvLayout layout() {
        return layout;
    }

    /** The chunk whose text is {@code text}. */
    public NewChunk chunk(String text) {
        SplittableRandom r = new SplittableRandom(seed(text));
        int[] ids = new int[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = r.nextInt(32000);
        }
        byte[] keys = new byte[layout.kvBytes(tokens)];
        byte[] values = new byte[keys.length];
        fill(r, keys);
        fill(r, values);
        return new NewChunk(ids, text, embedding(r, layout.embeddingDim()), keys, values);
    }

    /** A random L2-normalised vector. */
    public static float[] embedding(SplittableRandom r, int dim) {
        float[] e = new float[dim];
        double norm = 0;
        for (int i = 0; i < dim; i++) {
            e[i] = (float) (r.nextDouble() * 2 - 1);
            norm += e[i] * e[i];
        }
        float inv = (float) (1 / Math.sqrt(norm));
        for (int i = 0; i < dim; i++) {
            e[i] *= inv;
        }
        return e;
    }

    /** Whether a stored chunk (ids, K/V, embedding) is exactly the one its text determines. */
    public boolean matches(int[] tokenIds, String text, float[] embedding, byte[] keys, byte[] values) {
        NewChunk want = chunk(text);
        return Arrays.equals(want.tokenIds(), tokenIds) && Arrays.equals(want.embedding(), embedding)
                && Arrays.equals(want.keys(), keys) && Arrays.equals(want.values(), values);
    }

    private static void fill(SplittableRandom r, byte[] b) {
        for (int i = 0; i + 8 <= b.length; i += 8) {
            long v = r.nextLong();
            for (int j = 0; j < 8; j++) {
                b[i + j] = (byte) (v >>> (8 * j));
            }
        }
    }

    private static long seed(String text) {
        long h = 1125899906842597L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h = 31 * h + b;
        }
        return h;
    }
}
