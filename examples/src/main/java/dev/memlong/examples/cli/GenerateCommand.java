package dev.memlong.examples.cli;

import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.generate.Generation;
import dev.memlong.runtime.generate.SamplingParams;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", description = {
    "Continues a prompt: {\"ids\":[...],\"text\":\"...\"} with the generated tokens only.",
    "Greedy or sampled; generation runs to --max-new-tokens unless --stop or --stop-at-eos ends it."})
final class GenerateCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--ids", converter = IdList.class, paramLabel = "1,2,3", description = "prompt token ids")
        IdList.Ids ids;

        @Option(names = "--prompt", paramLabel = "TEXT", description = "prompt text (tokenized with special tokens)")
        String prompt;
    }

    @Option(names = "--max-new-tokens", required = true, paramLabel = "N", description = "tokens to generate at most")
    int maxNewTokens;

    @Option(names = "--greedy", description = "greedy decoding (the default when no --temperature is given)")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "X", description = "sampling temperature (> 0 samples)")
    Double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P", description = "nucleus filtering (default 1: off)")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "top-k filtering (default 0: off)")
    int topK;

    @Option(names = "--repetition-penalty", defaultValue = "1.0", paramLabel = "X", description = "default 1: off")
    double repetitionPenalty;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "sampling seed")
    long seed;

    @Option(names = "--stop", paramLabel = "STRING", description = "stop string (repeatable); the text ends before it")
    List<String> stop = new ArrayList<>();

    @Option(names = "--stop-at-eos", description = "also stop at the model's end-of-sequence tokens")
    boolean stopAtEos;

    @Override
    public Integer call() {
        if (greedy && temperature != null && temperature > 0) {
            throw new IllegalArgumentException("--greedy and --temperature exclude each other");
        }
        double t = greedy || temperature == null ? 0 : temperature;
        SamplingParams params = new SamplingParams(maxNewTokens, t, topK, topP, repetitionPenalty, seed, List.of(), stop);
        try (ModelBundle bundle = ModelBundle.open(model.dir, model.options())) {
            if (stopAtEos) {
                params = params.withStopTokens(bundle.tokenizer().eosTokenIds());
            }
            int[] prompt = input.ids != null ? input.ids.values() : bundle.tokenizer().encode(input.prompt, true);
            Generation g = bundle.generator().generate(prompt, params);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("ids", g.ids());
            out.put("text", g.text());
            out.put("stop_reason", g.stopReason().name().toLowerCase(java.util.Locale.ROOT));
            out.put("prompt_tokens", g.promptTokens());
            Json.print(out);
        }
        return 0;
    }
}
