package dev.memlong.runtime.retriever;

import java.util.List;

/**
 * A frozen, pretrained text embedder (MemLong's retriever): chunk texts and query texts are embedded the same way
 * and compared by inner product.
 *
 * <p>Implementations are thread-safe: one instance is shared by every conversation of a model.
 */
public interface Retriever extends AutoCloseable {

    /**
     * Embeds texts in batches.
     *
     * @return one vector of {@link #dimension()} floats per text (the embedding models' are L2-normalised; a
     *         {@link HybridRetriever}'s word half is not), in the order of {@code texts}; a text's
     *         vector does not depend on the other texts of the call (within 1e-5), so a chunk embedded when it is
     *         stored and the same text embedded as a query compare exactly
     * @throws RetrieverException if the model fails
     */
    float[][] embed(List<String> texts);

    /** Embeds one text; the same vector {@link #embed(List)} gives for it. */
    default float[] embed(String text) {
        return embed(List.of(text))[0];
    }

    /** Length of every embedding. */
    int dimension();

    /**
     * What this retriever's vectors are: the model and every setting that changes them. A memory bank records the id
     * of the retriever that embedded its chunks ({@code KvLayout.embedder}) and is refused by one with another id:
     * two retrievers of the same dimension (another lexical weight, another model) give vectors that do not
     * compare, and searching one's chunks with the other's queries fails silently.
     */
    String id();

    /** Releases the model; further calls fail. Idempotent. */
    @Override
    void close();
}
