package dev.memlong.storage;

import dev.memlong.memory.ChunkUsage;
import dev.memlong.memory.ScoredChunk;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The in-RAM part of an active bank: per chunk (in chronological order) its sequence number, token count,
 * retrieval counter, and its embedding as one row of a compact row-major {@code float[]} — exact inner-product
 * search is a linear scan over that array.
 */
final class BankIndex {

    private final int dim;
    private int size;
    private long[] seqs = new long[16];
    private int[] tokens = new int[16];
    private long[] counters = new long[16];
    private float[] embeddings;
    private long tokenTotal;

    BankIndex(int dim) {
        this.dim = dim;
        this.embeddings = new float[16 * dim];
    }

    int size() {
        return size;
    }

    long tokenTotal() {
        return tokenTotal;
    }

    /** Appends a chunk; {@code seq} must be greater than every seq present. */
    void add(long seq, int tokenCount, long counter, float[] embedding) {
        if (size > 0 && seq <= seqs[size - 1]) {
            throw new IllegalStateException("seq " + seq + " after " + seqs[size - 1]);
        }
        if (size == seqs.length) {
            int n = Math.max(16, size * 2);
            seqs = Arrays.copyOf(seqs, n);
            tokens = Arrays.copyOf(tokens, n);
            counters = Arrays.copyOf(counters, n);
            embeddings = Arrays.copyOf(embeddings, Math.multiplyExact(n, dim));
        }
        seqs[size] = seq;
        tokens[size] = tokenCount;
        counters[size] = counter;
        System.arraycopy(embedding, 0, embeddings, size * dim, dim);
        size++;
        tokenTotal += tokenCount;
    }

    /** Row of {@code seq}, or a negative number. */
    int row(long seq) {
        return Arrays.binarySearch(seqs, 0, size, seq);
    }

    long seq(int row) {
        return seqs[row];
    }

    int tokens(int row) {
        return tokens[row];
    }

    long counter(int row) {
        return counters[row];
    }

    void incrementCounter(int row) {
        counters[row]++;
    }

    float[] embedding(int row) {
        return Arrays.copyOfRange(embeddings, row * dim, (row + 1) * dim);
    }

    List<Long> seqs() {
        List<Long> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(seqs[i]);
        }
        return out;
    }

    /** What eviction needs to know of every chunk, chronological; a mutable list the caller owns. */
    List<ChunkUsage> usage() {
        List<ChunkUsage> out = new ArrayList<>(size + 4);
        for (int i = 0; i < size; i++) {
            out.add(new ChunkUsage(seqs[i], tokens[i], counters[i]));
        }
        return out;
    }

    /** Removes these chunks, keeping the others in order. */
    void removeAll(Collection<Long> evicted) {
        Set<Long> gone = new HashSet<>(evicted);
        int w = 0;
        for (int r = 0; r < size; r++) {
            if (gone.contains(seqs[r])) {
                tokenTotal -= tokens[r];
                continue;
            }
            if (w != r) {
                seqs[w] = seqs[r];
                tokens[w] = tokens[r];
                counters[w] = counters[r];
                System.arraycopy(embeddings, r * dim, embeddings, w * dim, dim);
            }
            w++;
        }
        size = w;
    }

    void clear() {
        size = 0;
        tokenTotal = 0;
    }

    /**
     * Exact top-k by inner product, best first, ties broken by the newer chunk first. One pass over the rows
     * keeping the best {@code k} in two small arrays (k is the retrieval's top-k, a handful), so a search
     * allocates nothing proportional to the bank's size.
     */
    List<ScoredChunk> topK(float[] query, int k) {
        if (query.length != dim) {
            throw new IllegalArgumentException("query has " + query.length + " dims, bank has " + dim);
        }
        int n = Math.min(k, size);
        if (n <= 0) {
            return List.of();
        }
        int[] bestRows = new int[n];
        float[] bestScores = new float[n];
        int filled = 0;
        for (int r = 0; r < size; r++) {
            float s = dot(embeddings, r * dim, query);
            // rows go oldest to newest, so an equal score from a later row ranks higher (newer first on ties)
            if (filled == n && s < bestScores[n - 1]) {
                continue;
            }
            int pos = filled == n ? n - 1 : filled++;
            while (pos > 0 && s >= bestScores[pos - 1]) {
                bestRows[pos] = bestRows[pos - 1];
                bestScores[pos] = bestScores[pos - 1];
                pos--;
            }
            bestRows[pos] = r;
            bestScores[pos] = s;
        }
        List<ScoredChunk> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new ScoredChunk(seqs[bestRows[i]], bestScores[i]));
        }
        return out;
    }

    /** Inner product of row {@code off / dim} and {@code q}; eight partial sums, so the loop is not one long chain. */
    private float dot(float[] m, int off, float[] q) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 7 < dim; i += 8) {
            s0 += m[off + i] * q[i];
            s1 += m[off + i + 1] * q[i + 1];
            s2 += m[off + i + 2] * q[i + 2];
            s3 += m[off + i + 3] * q[i + 3];
            s4 += m[off + i + 4] * q[i + 4];
            s5 += m[off + i + 5] * q[i + 5];
            s6 += m[off + i + 6] * q[i + 6];
            s7 += m[off + i + 7] * q[i + 7];
        }
        for (; i < dim; i++) {
            s0 += m[off + i] * q[i];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }
}
