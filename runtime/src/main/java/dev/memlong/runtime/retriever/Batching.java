package dev.memlong.runtime.retriever;

/**
 * How {@link OnnxBertRetriever} groups texts into model runs.
 *
 * <p>Padded batches are exact for float models (padding is masked out of attention), but not for models quantised
 * with ONNX Runtime's dynamic quantisation: {@code DynamicQuantizeLinear} picks one activation scale per tensor, so
 * a text's vector would depend on the other texts (and padding) in its batch. Such models run one text per run,
 * with runs in parallel, so a text's vector never depends on the call it came in.
 */
public enum Batching {
    /** {@link #PER_TEXT} if the model contains {@code DynamicQuantizeLinear}, otherwise {@link #PADDED}. */
    AUTO,
    /**
     * Texts of similar length padded into one run, with an attention mask. Forcing it on a dynamically quantised
     * model gives up the batch-independence {@link Retriever#embed} promises (vectors then differ by up to a few
     * 1e-2 between batch compositions).
     */
    PADDED,
    /** One text per run, runs in parallel on the retriever's threads. */
    PER_TEXT
}
