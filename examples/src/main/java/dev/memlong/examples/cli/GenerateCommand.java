package dev.memlong.examples.cli;

import dev.memlong.memory.MemoryBank;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.generate.TokenListener;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.memlong.Retrieval;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.retriever.HybridRetriever;
import dev.memlong.runtime.retriever.Retriever;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

@Command(name = "generate", mixinStandardHelpOptions = true, description = {
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

    @Option(names = "--context-file", paramLabel = "FILE",
            description = "ingest this text into MemLong memory first, then answer the prompt with retrieval")
    Path contextFile;

    @Option(names = "--show-retrieval", description = "with --context-file: list the chunks each retrieval chose")
    boolean showRetrieval;

    @Option(names = "--window", paramLabel = "W", description = "with --context-file: local window in tokens")
    Integer window;

    /** Ingests the context file into a fresh in-memory bank (long-input path), then answers with retrieval. */
    private Generation withMemory(ModelBundle bundle, SamplingParams params, Map<String, Object> out) {
        String context;
        try {
            context = Files.readString(contextFile);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + contextFile + ": " + e.getMessage(), e);
        }
        try (Retriever retriever = HybridRetriever.standard()) {
            MemLongEngine engine = new MemLongEngine(bundle, retriever, MemoryOptions.settings(bundle, window));
            try (KvCachePool cache = engine.newCache(1); MemoryBank bank = engine.newInMemoryBank();
                 MemLongSequence seq = engine.newSequence(cache, 0, bank)) {
                seq.feed(bundle.tokenizer().encode(context, true), true, false, null);
                List<Map<String, Object>> retrievals = new ArrayList<>();
                seq.onRetrieval(r -> retrievals.add(describe(r)));
                // the prompt continues the stream after the context: no second BOS
                int[] prompt = input.ids != null ? input.ids.values() : bundle.tokenizer().encode(input.prompt, false);
                Generation g = bundle.generator().generate(MemLongEngine.stepper(seq), prompt, params, TokenListener.NONE);
                out.put("memory_chunks", bank.chunkCount());
                out.put("retrievals", retrievals);
                return g;
            }
        }
    }

    private static Map<String, Object> describe(Retrieval r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("window_position", r.windowPosition());
        m.put("query", r.query());
        List<Map<String, Object>> chunks = new ArrayList<>();
        for (Retrieval.RetrievedChunk c : r.chunks()) {
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("index", c.seq());
            cm.put("score", c.score());
            cm.put("text", c.text());
            chunks.add(cm);
        }
        m.put("chunks", chunks);
        return m;
    }

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
            Map<String, Object> out = new LinkedHashMap<>();
            Generation g;
            if (contextFile == null) {
                if (showRetrieval || window != null) {
                    throw new IllegalArgumentException("--show-retrieval and --window need --context-file");
                }
                int[] prompt = input.ids != null ? input.ids.values() : bundle.tokenizer().encode(input.prompt, true);
                g = bundle.generator().generate(prompt, params);
            } else {
                g = withMemory(bundle, params, out);
            }
            out.put("ids", g.ids());
            out.put("text", g.text());
            out.put("stop_reason", g.stopReason().name().toLowerCase(java.util.Locale.ROOT));
            out.put("prompt_tokens", g.promptTokens());
            if (!showRetrieval) {
                out.remove("retrievals");
            } else {
                out.put("retrievals", out.remove("retrievals")); // last, after the text
            }
            Json.print(out);
        }
        return 0;
    }
}
