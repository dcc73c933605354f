package dev.memlong.examples.cli;

import dev.memlong.runtime.checkpoint.ModelConverter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "convert", mixinStandardHelpOptions = true, description = "Rewrites a pytorch_model.bin checkpoint as model.safetensors (+ config and tokenizer files)")
final class ConvertCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "source model directory")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    Path out;

    @Override
    public Integer call() {
        ModelConverter.Result r = ModelConverter.convert(model, out);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("weights", r.weights().toString());
        json.put("tensors", r.tensors());
        json.put("bytes", r.bytes());
        json.put("copied", r.copiedFiles());
        Json.print(json);
        return 0;
    }
}
