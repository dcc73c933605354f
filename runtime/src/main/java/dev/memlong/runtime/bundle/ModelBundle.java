package dev.memlong.runtime.bundle;

import dev.memlong.runtime.generate.Generator;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.ModelOptions;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Everything a model directory provides, opened together: the decoder, its tokenizer and its chat template.
 * Owns all three and closes them together.
 */
public final class ModelBundle implements AutoCloseable {

    private final Path directory;
    private final LlamaModel model;
    private final TextTokenizer tokenizer;
    private final Optional<ChatTemplate> chatTemplate;

    private ModelBundle(Path directory, LlamaModel model, TextTokenizer tokenizer, Optional<ChatTemplate> chatTemplate) {
        this.directory = directory;
        this.model = model;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
    }

    public static ModelBundle open(Path modelDir, ModelOptions options) {
        TextTokenizer tokenizer = Tokenizers.open(modelDir);
        try {
            Optional<ChatTemplate> template = ChatTemplate.find(modelDir);
            return new ModelBundle(modelDir, LlamaModel.load(modelDir, options), tokenizer, template);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    public static ModelBundle open(Path modelDir) {
        return open(modelDir, ModelOptions.defaults());
    }

    public Path directory() {
        return directory;
    }

    public LlamaModel model() {
        return model;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    public Optional<ChatTemplate> chatTemplate() {
        return chatTemplate;
    }

    public Generator generator() {
        return new Generator(model, tokenizer);
    }

    @Override
    public void close() {
        try {
            model.close();
        } finally {
            tokenizer.close();
        }
    }
}
