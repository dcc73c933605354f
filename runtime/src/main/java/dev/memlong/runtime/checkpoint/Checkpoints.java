package dev.memlong.runtime.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens the weights of a Hugging Face model directory in whichever format it has. When a directory holds both
 * safetensors and a PyTorch pickle, safetensors win: they are memory-mappable and cannot execute code.
 */
public final class Checkpoints {

    private Checkpoints() {}

    public static WeightSource open(Path modelDir) {
        if (!Files.isDirectory(modelDir)) {
            throw new CheckpointException("model directory " + modelDir + " does not exist");
        }
        Path single = modelDir.resolve("model.safetensors");
        Path index = modelDir.resolve("model.safetensors.index.json");
        if (Files.exists(index)) {
            return SafetensorsCheckpoint.openIndex(index);
        }
        if (Files.exists(single)) {
            return SafetensorsCheckpoint.openFile(single);
        }
        throw new CheckpointException("no weights in " + modelDir
                + ": expected model.safetensors or model.safetensors.index.json");
    }
}
