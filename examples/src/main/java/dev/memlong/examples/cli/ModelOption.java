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
            description = "compute dtype: float32 (default) or float16 (bfloat16 is refused: DJL's PyTorch binding "
                    + "aborts on it; bfloat16 checkpoints load widened)")
    String dtype;

    @Option(names = "--kv-cache-dtype", defaultValue = "auto", paramLabel = "TYPE",
            description = "what the KV cache stores: auto (the compute dtype, default) or bfloat16 (float32 compute "
                    + "and the Java decode step)")
    String kvCacheDtype;

    ModelOptions options() {
        var compute = ModelOptions.parseComputeType(dtype);
        return new ModelOptions(ai.djl.Device.cpu(), compute, ModelOptions.parseKvCacheType(kvCacheDtype, compute));
    }
}
