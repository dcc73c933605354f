package dev.memlong.runtime.checkpoint;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens the weights of a Hugging Face model directory in whichever format it has. When a directory holds both
 * safetensors and a PyTorch pickle, safetensors win: they are memory-mappable and cannot execute code. Within a
 * format, a shard index wins over a single file.
 */
public final class Checkpoints {

    private Checkpoints() {}

    /**
     * @param modelDir a directory with {@code model.safetensors(.index.json)} or {@code pytorch_model.bin(.index.json)}
     * @throws CheckpointException if it has neither, or the weights cannot be read
     */
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
        Path binIndex = modelDir.resolve("pytorch_model.bin.index.json");
        Path bin = modelDir.resolve("pytorch_model.bin");
        if (Files.exists(binIndex)) {
            return PyTorchPickleCheckpoint.openIndex(binIndex);
        }
        if (Files.exists(bin)) {
            return PyTorchPickleCheckpoint.openFile(bin);
        }
        throw new CheckpointException("no weights in " + modelDir + ": expected model.safetensors, "
                + "model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json");
    }
}
