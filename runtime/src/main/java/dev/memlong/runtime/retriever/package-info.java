/**
 * Retrievers: text embedders that turn chunk and query text into vectors for the memory bank's inner-product search.
 * {@link dev.memlong.runtime.retriever.HybridRetriever#standard()} is the runtime's default: the quantised
 * bge-small-en-v1.5 bundled as a Maven artifact ({@link dev.memlong.runtime.retriever.BgeSmallRetriever}, L2-normalised
 * vectors) blended with a count of shared words and word pairs; {@link dev.memlong.runtime.retriever.OnnxBertRetriever}
 * runs any ONNX BERT-style embedding model from disk. Everything runs offline on ONNX Runtime. Each retriever has an
 * {@link dev.memlong.runtime.retriever.Retriever#id() id} that memory banks record.
 */
package dev.memlong.runtime.retriever;
