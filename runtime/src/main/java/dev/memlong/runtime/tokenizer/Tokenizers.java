package dev.memlong.runtime.tokenizer;

import dev.memlong.runtime.checkpoint.CheckpointException;

import java.nio.file.Files;
import java.nio.file.Path;

/** Opens the tokenizer of a Hugging Face model directory, whichever kind it has. */
public final class Tokenizers {

    private Tokenizers() {}

    /**
     * {@code tokenizer.json} if the directory has one (as transformers prefers the fast tokenizer), else a
     * SentencePiece {@code tokenizer.model}.
     *
     * @throws CheckpointException naming the directory, if it has no tokenizer this runtime can load
     */
    public static TextTokenizer open(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new CheckpointException("model directory " + modelDir + " does not exist");
        }
        if (Files.exists(modelDir.resolve(HfTokenizer.FILE))) {
            return HfTokenizer.open(modelDir);
        }
        if (Files.exists(modelDir.resolve("tokenizer.model"))) {
            return SentencePieceTokenizer.open(modelDir);
        }
        throw new CheckpointException("no tokenizer in " + modelDir + ": expected " + HfTokenizer.FILE
                + " or tokenizer.model");
    }
}
