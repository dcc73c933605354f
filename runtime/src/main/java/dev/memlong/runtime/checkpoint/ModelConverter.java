package dev.memlong.runtime.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Converts a model directory with PyTorch pickle weights ({@code pytorch_model.bin} or its shard index) into one
 * that loads by memory mapping: {@code model.safetensors} plus copies of the config and tokenizer files.
 *
 * <p>Tensors keep their stored element type (F32, F16, BF16, and integer buffers as they are), so the conversion is
 * lossless: {@link SafetensorsCheckpoint} widens the converted tensors to float32 exactly as
 * {@link PyTorchPickleCheckpoint} widens the originals, and the model gives identical logits. Views are written
 * contiguous, and tied weights (two names on one storage) are written once per name, as safetensors has no aliasing.
 * The output is a single file, whatever the model's size.
 */
public final class ModelConverter {

    /** Files copied unchanged when present. */
    static final List<String> COPIED_FILES = List.of("config.json", "generation_config.json", "tokenizer.model",
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json");

    /**
     * What a conversion did.
     *
     * @param weights     the safetensors file written
     * @param tensors     tensors written
     * @param bytes       size of the safetensors file
     * @param copiedFiles names of the files copied beside it
     */
    public record Result(Path weights, int tensors, long bytes, List<String> copiedFiles) {}

    private ModelConverter() {}

    /**
     * @param srcDir a model directory with {@code pytorch_model.bin} or {@code pytorch_model.bin.index.json}
     * @param outDir the directory to write (created if missing; must differ from {@code srcDir})
     * @throws CheckpointException if the source has no pickle weights, cannot be read, or the output cannot be written
     */
    public static Result convert(Path srcDir, Path outDir) {
        Path index = srcDir.resolve("pytorch_model.bin.index.json");
        Path single = srcDir.resolve("pytorch_model.bin");
        if (!Files.exists(index) && !Files.exists(single)) {
            throw new CheckpointException("no PyTorch pickle weights to convert in " + srcDir
                    + ": expected pytorch_model.bin or pytorch_model.bin.index.json");
        }
        try {
            if (Files.exists(outDir) && Files.isSameFile(srcDir, outDir)) {
                throw new CheckpointException("convert " + srcDir + ": the output directory must differ from the source");
            }
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new CheckpointException("cannot create output directory " + outDir + ": " + e.getMessage(), e);
        }
        Path weights = outDir.resolve("model.safetensors");
        long bytes;
        int count;
        try (PyTorchPickleCheckpoint src = Files.exists(index)
                ? PyTorchPickleCheckpoint.openIndex(index) : PyTorchPickleCheckpoint.openFile(single)) {
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            for (TensorInfo info : src.tensors().values()) {
                tensors.add(new SafetensorsWriter.Tensor(info.name(), src.storedDtype(info.name()), info.shape()));
            }
            bytes = SafetensorsWriter.write(weights, tensors, Map.of("format", "pt"), src::readStored);
            count = tensors.size();
        }
        List<String> copied = new ArrayList<>();
        for (String name : COPIED_FILES) {
            Path from = srcDir.resolve(name);
            if (Files.isRegularFile(from)) {
                try {
                    Files.copy(from, outDir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                } catch (IOException e) {
                    throw new CheckpointException("cannot copy " + from + " to " + outDir + ": " + e.getMessage(), e);
                }
                copied.add(name);
            }
        }
        return new Result(weights, count, bytes, List.copyOf(copied));
    }
}
