package dev.memlong.examples.cli;

import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.retriever.HybridRetriever;
import dev.memlong.runtime.retriever.Retriever;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Perplexity of a long document streamed through the MemLong window: chunk by chunk, each chunk retrieving
 * from the memory built so far, the oldest half of the window moving to memory whenever it fills (the paper's
 * protocol with memory carried along). The loss on the final 2048 tokens is reported separately.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true, description = "Perplexity of a long document, with MemLong memory or with the window only")
final class PerplexityCommand implements Callable<Integer> {

    static final int TAIL = 2048;

    @Mixin
    ModelOption model;

    @Option(names = "--file", required = true, paramLabel = "TEXT", description = "UTF-8 text file")
    Path file;

    @Option(names = "--no-memory", description = "window only: overflow is dropped, nothing is retrieved")
    boolean noMemory;

    @Option(names = "--window", paramLabel = "W", description = "local window in tokens (a multiple of 2 x chunk size)")
    Integer window;

    @Option(names = "--json", description = "JSON output (the default; kept for scripts)")
    boolean json;

    @Override
    public Integer call() throws IOException {
        String text = Files.readString(file);
        try (ModelBundle bundle = ModelBundle.open(model.dir, model.options());
             Retriever retriever = HybridRetriever.standard()) {
            MemorySettings settings = MemoryOptions.settings(bundle, window);
            MemLongEngine engine = new MemLongEngine(bundle, retriever, settings);
            int[] ids = bundle.tokenizer().encode(text, true);
            if (ids.length < 2) {
                throw new IllegalArgumentException(file + " has fewer than two tokens");
            }
            double[] nll = new double[ids.length];  // nll[i]: loss of predicting token i (i >= 1)
            try (KvCachePool cache = engine.newCache(1); MemoryBank bank = engine.newInMemoryBank();
                 MemLongSequence seq = engine.newSequence(cache, 0, bank)) {
                seq.setMemoryEnabled(!noMemory);
                seq.feed(ids, true, true, (i, logits) -> {
                    if (i + 1 < ids.length) {
                        nll[i + 1] = negativeLogLikelihood(logits, ids[i + 1]);
                    }
                });
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("tokens", ids.length);
                out.put("perplexity", Math.exp(mean(nll, 1, ids.length)));
                int tailFrom = Math.max(1, ids.length - TAIL);
                out.put("last_2048_perplexity", Math.exp(mean(nll, tailFrom, ids.length)));
                out.put("memory", !noMemory);
                out.put("window", settings.localWindow());
                out.put("chunk_size", settings.chunkSize());
                out.put("memory_chunks", bank.chunkCount());
                Json.print(out);
            }
        }
        return 0;
    }

    static double negativeLogLikelihood(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double z = 0;
        for (float l : logits) {
            z += Math.exp(l - max);
        }
        return Math.log(z) + max - logits[target];
    }

    private static double mean(double[] v, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += v[i];
        }
        return s / (to - from);
    }
}
