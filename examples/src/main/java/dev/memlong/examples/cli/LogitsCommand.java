package dev.memlong.examples.cli;

import dev.memlong.runtime.model.LlamaModel;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "logits", mixinStandardHelpOptions = true, description = "Logits at every position of a token sequence: {\"logits\":[[...],...]}")
final class LogitsCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Option(names = "--ids", required = true, converter = IdList.class, paramLabel = "1,2,3", description = "token ids")
    IdList.Ids ids;

    @Override
    public Integer call() {
        try (LlamaModel m = LlamaModel.load(model.dir, model.options())) {
            int vocab = m.config().vocabSize();
            for (int id : ids.values()) {
                if (id >= vocab) {
                    throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
                }
            }
            Json.print(Map.of("logits", m.forwardLogits(ids.values())));
        }
        return 0;
    }
}
