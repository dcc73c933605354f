package dev.memlong.examples.cli;

import dev.memlong.runtime.model.ModelOptions;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every model command shares. */
final class ModelOption {

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Hugging Face model directory (config.json, weights, tokenizer)")
    Path dir;

    @Option(names = "--dtype", defaultValue = "float32", paramLabel = "TYPE",
            description = "compute dtype: float32 (default), bfloat16 or float16")
    String dtype;

    ModelOptions options() {
        return new ModelOptions(ai.djl.Device.cpu(), ModelOptions.parseComputeType(dtype));
    }
}
