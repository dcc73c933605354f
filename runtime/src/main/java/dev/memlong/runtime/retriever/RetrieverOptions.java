package dev.memlong.runtime.retriever;

/**
 * How an {@link OnnxBertRetriever} runs its model.
 *
 * @param pooling        token states to text vector
 * @param maxTokens      texts are truncated to this many tokens, special tokens included (512 for BERT models)
 * @param batchSize      texts per model run when {@link Batching#PADDED}
 * @param batching       how texts are grouped into model runs
 * @param threads        model runs in flight at once for one {@link Retriever#embed} call
 * @param intraOpThreads ONNX Runtime threads inside one model run
 */
public record RetrieverOptions(Pooling pooling, int maxTokens, int batchSize, Batching batching, int threads,
                               int intraOpThreads) {

    public RetrieverOptions {
        if (pooling == null || batching == null) {
            throw new IllegalArgumentException("pooling and batching must be set");
        }
        requirePositive("maxTokens", maxTokens);
        requirePositive("batchSize", batchSize);
        requirePositive("threads", threads);
        requirePositive("intraOpThreads", intraOpThreads);
    }

    /**
     * CLS pooling, 512 tokens, batches of 32, batching by model kind, one run per available core with one ONNX
     * Runtime thread each (many small runs side by side beat one run split over cores for sentence-sized texts).
     */
    public static RetrieverOptions defaults() {
        return new RetrieverOptions(Pooling.CLS, 512, 32, Batching.AUTO,
                Runtime.getRuntime().availableProcessors(), 1);
    }

    public RetrieverOptions withPooling(Pooling p) {
        return new RetrieverOptions(p, maxTokens, batchSize, batching, threads, intraOpThreads);
    }

    public RetrieverOptions withBatching(Batching b, int size) {
        return new RetrieverOptions(pooling, maxTokens, size, b, threads, intraOpThreads);
    }

    public RetrieverOptions withThreads(int parallelRuns, int intraOp) {
        return new RetrieverOptions(pooling, maxTokens, batchSize, batching, parallelRuns, intraOp);
    }

    private static void requirePositive(String name, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }
}
