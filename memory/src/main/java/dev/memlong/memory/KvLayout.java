package dev.memlong.memory;

/**
 * The shape of the memory-layer K/V a bank stores per token: {@code [kvHeads, headDim]} for keys and the same
 * for values, in {@code dtype}. A bank written for one layout can only be read by a model with the same layout.
 *
 * @param kvHeads      key/value heads of the memory layer
 * @param headDim      dimension of one head
 * @param dtype        storage encoding
 * @param embeddingDim retriever embedding dimension
 * @param embedder     the id of the retriever that embeds the bank's chunks ({@code Retriever.id()}); empty where
 *                     it is not known (banks written before it was recorded, banks of tests)
 */
public record KvLayout(int kvHeads, int headDim, KvDType dtype, int embeddingDim, String embedder) {

    public KvLayout {
        if (kvHeads <= 0 || headDim <= 0 || embeddingDim <= 0) {
            throw new IllegalArgumentException("kvHeads, headDim and embeddingDim must be positive, got "
                    + kvHeads + ", " + headDim + ", " + embeddingDim);
        }
        if (dtype == null) {
            throw new IllegalArgumentException("dtype must be set");
        }
        if (embedder == null) {
            throw new IllegalArgumentException("embedder must be set (empty: not known)");
        }
        // a plain int product would wrap (65536 * 65536 heads x dims is 0 bytes a token) and let K/V of any size
        // pass kvBytes' checks; no real memory layer comes near 2 GiB of K/V a token
        try {
            Math.multiplyExact(Math.multiplyExact(kvHeads, headDim), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("kvHeads " + kvHeads + " x headDim " + headDim + " x " + dtype
                    + " exceeds 2 GiB of K/V a token");
        }
    }

    /** This layout recording {@code id} as its embedder. */
    public KvLayout withEmbedder(String id) {
        return new KvLayout(kvHeads, headDim, dtype, embeddingDim, id);
    }

    /** A layout whose embedder is not recorded. */
    public KvLayout(int kvHeads, int headDim, KvDType dtype, int embeddingDim) {
        this(kvHeads, headDim, dtype, embeddingDim, "");
    }

    /**
     * Whether a bank stored with this layout can be opened with {@code wanted}: the same K/V shape and encoding, the
     * same embedding length and, where both record it, the same embedder. (A bank from before embedders were
     * recorded is accepted on its shape alone: nothing tells which retriever wrote it.)
     */
    public boolean accepts(KvLayout wanted) {
        return kvHeads == wanted.kvHeads && headDim == wanted.headDim && dtype == wanted.dtype
                && embeddingDim == wanted.embeddingDim && (wanted.embedder.isEmpty() || embeddedBy(wanted.embedder));
    }

    /** Whether retriever {@code id} may search this bank: it embedded it, or the bank does not record who did. */
    public boolean embeddedBy(String id) {
        return embedder.isEmpty() || embedder.equals(id);
    }

    /**
     * Checks that a chunk fits this layout.
     *
     * @throws IllegalArgumentException naming the first mismatch (embedding length, key or value bytes, a
     *                                  non-finite embedding value)
     */
    public void requireMatches(NewChunk chunk) {
        if (chunk.embedding().length != embeddingDim) {
            throw new IllegalArgumentException("embedding has " + chunk.embedding().length + " values, but the bank's "
                    + "layout " + this + " needs " + embeddingDim);
        }
        requireFinite("embedding", chunk.embedding());
        int expected = kvBytes(chunk.tokens());
        if (chunk.keys().length != expected) {
            throw new IllegalArgumentException("keys have " + chunk.keys().length + " bytes, but " + chunk.tokens()
                    + " tokens in layout " + this + " need " + expected);
        }
        if (chunk.values().length != expected) {
            throw new IllegalArgumentException("values have " + chunk.values().length + " bytes, but " + chunk.tokens()
                    + " tokens in layout " + this + " need " + expected);
        }
    }

    /** Checks a search query against this layout: {@code embeddingDim} finite values. */
    public void requireQuery(float[] query) {
        if (query.length != embeddingDim) {
            throw new IllegalArgumentException("query has " + query.length + " values, but the bank's layout " + this
                    + " needs " + embeddingDim);
        }
        requireFinite("query", query);
    }

    private static void requireFinite(String what, float[] v) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException(what + "[" + i + "] is " + v[i] + "; it must be finite");
            }
        }
    }

    /**
     * Bytes of keys (or of values) for {@code tokens} tokens.
     *
     * @throws IllegalArgumentException if that exceeds {@link Integer#MAX_VALUE} (no byte array holds it)
     */
    public int kvBytes(int tokens) {
        try {
            // kvHeads * headDim * dtype.bytes() fits an int: the constructor checked it
            return Math.multiplyExact(tokens, kvHeads * headDim * dtype.bytes());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("K/V of " + tokens + " tokens in layout " + this
                    + " exceeds 2 GiB");
        }
    }
}
