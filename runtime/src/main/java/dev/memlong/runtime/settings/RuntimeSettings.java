package dev.memlong.runtime.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.memlong.runtime.model.ModelOptions;
import dev.memlong.runtime.retriever.BgeSmallRetriever;
import dev.memlong.runtime.retriever.HybridRetriever;
import dev.memlong.runtime.retriever.OnnxBertRetriever;
import dev.memlong.runtime.retriever.Pooling;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.retriever.RetrieverOptions;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The model runtime's settings ({@code memlong.model}, {@code memlong.retriever}), read once and validated: an
 * unknown key or an invalid value fails at start-up with the key's full name.
 *
 * @param modelDir      the model directory
 * @param modelOptions  device and compute dtype
 * @param retrieverKind "bge-small-en-v1.5" or "onnx"
 * @param retrieverDir  the ONNX model directory (kind onnx)
 * @param pooling       pooling for kind onnx
 * @param lexicalWeight the share of the retrieval score from shared content words ({@link HybridRetriever}; 0 = the
 *                      sentence embedder alone)
 */
public record RuntimeSettings(Path modelDir, ModelOptions modelOptions, String retrieverKind, Path retrieverDir,
                              Pooling pooling, double lexicalWeight) {

    private static final Set<String> MODEL_KEYS = Set.of("dir", "dtype", "kv-cache-dtype");
    private static final Set<String> RETRIEVER_KEYS = Set.of("kind", "model-dir", "pooling", "lexical-weight");

    /** Reads {@code memlong.model} and {@code memlong.retriever} with this module's reference.conf beneath. */
    public static RuntimeSettings from(Config config) {
        Config c = config.withFallback(ConfigFactory.defaultReference(RuntimeSettings.class.getClassLoader())).resolve();
        Config model = c.getConfig("memlong.model");
        Config retriever = c.getConfig("memlong.retriever");
        rejectUnknown(model, "memlong.model", MODEL_KEYS);
        rejectUnknown(retriever, "memlong.retriever", RETRIEVER_KEYS);
        ModelOptions options;
        try {
            options = new ModelOptions(ai.djl.Device.cpu(), ModelOptions.parseComputeType(model.getString("dtype")));
        } catch (IllegalArgumentException e) {
            throw new ConfigException.BadValue("memlong.model.dtype", e.getMessage());
        }
        try {
            options = new ModelOptions(options.device(), options.computeType(),
                    ModelOptions.parseKvCacheType(model.getString("kv-cache-dtype"), options.computeType()));
        } catch (IllegalArgumentException e) {
            throw new ConfigException.BadValue("memlong.model.kv-cache-dtype", e.getMessage());
        }
        String kind = retriever.getString("kind");
        if (!kind.equals("bge-small-en-v1.5") && !kind.equals("onnx")) {
            throw new ConfigException.BadValue("memlong.retriever.kind", "\"" + kind + "\" is not bge-small-en-v1.5 or onnx");
        }
        String dir = retriever.getString("model-dir");
        if (kind.equals("onnx") && dir.isBlank()) {
            throw new ConfigException.BadValue("memlong.retriever.model-dir", "kind onnx needs a model directory");
        }
        Pooling pooling;
        try {
            pooling = Pooling.valueOf(retriever.getString("pooling").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException.BadValue("memlong.retriever.pooling", "use cls or mean");
        }
        double lexicalWeight;
        try {
            lexicalWeight = retriever.getDouble("lexical-weight");
        } catch (ConfigException.WrongType e) {
            throw new ConfigException.BadValue("memlong.retriever.lexical-weight", "must be a number in [0, 1]");
        }
        if (!(lexicalWeight >= 0 && lexicalWeight <= 1)) {
            throw new ConfigException.BadValue("memlong.retriever.lexical-weight", "must be in [0, 1], got " + lexicalWeight);
        }
        return new RuntimeSettings(Path.of(model.getString("dir")), options, kind, dir.isBlank() ? null : Path.of(dir),
                pooling, lexicalWeight);
    }

    private static void rejectUnknown(Config section, String path, Set<String> known) {
        for (String key : section.root().keySet()) {
            if (!known.contains(key)) {
                throw new ConfigException.BadPath(path + "." + key, "unknown key; known keys: " + known);
            }
        }
    }

    /** Opens the configured retriever (the caller closes it). */
    public Retriever openRetriever() {
        Retriever dense = retrieverKind.equals("onnx")
                ? OnnxBertRetriever.fromDirectory(retrieverDir, RetrieverOptions.defaults().withPooling(pooling))
                : BgeSmallRetriever.create();
        return HybridRetriever.blend(dense, lexicalWeight);
    }
}
