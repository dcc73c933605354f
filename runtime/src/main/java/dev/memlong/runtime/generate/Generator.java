package dev.memlong.runtime.generate;

import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.SequenceStep;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.Arrays;
import java.util.List;

/** Generates the continuation of one prompt: prefill, then one cached decode step per token. */
public final class Generator {

    private final LlamaModel model;
    private final TextTokenizer tokenizer;

    public Generator(LlamaModel model, TextTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    public Generation generate(int[] prompt, SamplingParams params) {
        return generate(prompt, params, TokenListener.NONE);
    }

    public Generation generate(int[] prompt, SamplingParams params, TokenListener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt must contain at least one token");
        }
        int vocab = model.config().vocabSize();
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        Sampler sampler = new Sampler(params, vocab, prompt);
        TextAccumulator text = new TextAccumulator(tokenizer, params.stopStrings());
        int[] out = new int[params.maxNewTokens()];
        int n = 0;
        Generation.StopReason reason = Generation.StopReason.LENGTH;
        long start = System.nanoTime();
        long firstToken = start;
        try (KvCachePool cache = model.newCache(1, prompt.length + Math.max(1, params.maxNewTokens()))) {
            if (params.maxNewTokens() == 0) {
                return new Generation(new int[0], "", reason, prompt.length, 0, 0);
            }
            float[] logits = model.forward(cache, List.of(new SequenceStep(0, prompt)), false)[0][0];
            while (true) {
                int next = sampler.next(logits);
                sampler.accept(next);
                out[n++] = next;
                if (n == 1) {
                    firstToken = System.nanoTime();
                }
                if (params.stopTokenIds().contains(next)) {
                    reason = Generation.StopReason.STOP_TOKEN;
                    break;
                }
                String delta = text.add(next);
                if (!delta.isEmpty()) {
                    listener.onToken(next, delta);
                } else if (!text.stopped()) {
                    listener.onToken(next, "");
                }
                if (text.stopped()) {
                    reason = Generation.StopReason.STOP_STRING;
                    break;
                }
                if (n == params.maxNewTokens()) {
                    break;
                }
                logits = model.forward(cache, List.of(new SequenceStep(0, new int[] {next})), false)[0][0];
            }
        }
        String rest = reason == Generation.StopReason.STOP_STRING ? "" : text.flush();
        if (!rest.isEmpty()) {
            listener.onToken(-1, rest);
        }
        long end = System.nanoTime();
        return new Generation(Arrays.copyOf(out, n), text.finalText(), reason, prompt.length,
                firstToken - start, end - firstToken);
    }
}
