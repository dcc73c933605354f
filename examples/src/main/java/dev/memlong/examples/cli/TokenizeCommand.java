package dev.memlong.examples.cli;

import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Token ids of a text, as the model's tokenizer gives them: {\"ids\":[...]}")
final class TokenizeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "model directory")
    Path model;

    @Option(names = "--text", required = true, description = "text to tokenize")
    String text;

    @Option(names = "--no-special-tokens", description = "do not add BOS/EOS")
    boolean noSpecial;

    @Override
    public Integer call() {
        try (TextTokenizer tokenizer = Tokenizers.open(model)) {
            Json.print(Map.of("ids", tokenizer.encode(text, !noSpecial)));
        }
        return 0;
    }
}
