/**
 * Retrievers: pretrained text embedders that turn chunk and query text into L2-normalised vectors for the memory
 * bank's inner-product search. {@link dev.memlong.runtime.retriever.BgeSmallRetriever} is the default (the
 * quantised bge-small-en-v1.5 bundled as a Maven artifact); {@link dev.memlong.runtime.retriever.OnnxBertRetriever}
 * runs any ONNX BERT-style embedding model from disk. Everything runs offline on ONNX Runtime.
 */
package dev.memlong.runtime.retriever;
