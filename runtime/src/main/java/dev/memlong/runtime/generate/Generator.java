package dev.memlong.runtime.generate;

import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.SequenceStep;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.Arrays;
import java.util.List;

/** Generates the continuation of one prompt: prefill, then one cached decode step per token. */
public final class Generator {

    /** A plain KV cache of fixed capacity on slot 0. */
    private static final class CacheStepper implements TokenStepper {
        private final LlamaModel model;
        private final KvCachePool cache;

        CacheStepper(LlamaModel model, int capacity) {
            this.model = model;
            this.cache = model.newCache(1, capacity);
        }

        @Override
        public float[] prefill(int[] prompt) {
            return model.forward(cache, List.of(new SequenceStep(0, prompt)), false)[0][0];
        }

        @Override
        public float[] step(int token) {
            return model.forward(cache, List.of(new SequenceStep(0, new int[] {token})), false)[0][0];
        }

        @Override
        public void close() {
            cache.close();
        }
    }

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
        int capacity = prompt.length + Math.max(1, params.maxNewTokens());
        try (TokenStepper stepper = new CacheStepper(model, capacity)) {
            return generate(stepper, prompt, params, listener);
        }
    }

    /** Generates with any stepper (for example a MemLong sequence, whose window never runs out). */
    public Generation generate(TokenStepper stepper, int[] prompt, SamplingParams params, TokenListener listener) {
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
        if (params.maxNewTokens() == 0) {
            return new Generation(new int[0], "", reason, prompt.length, 0, 0);
        }
        {
            float[] logits = stepper.prefill(prompt);
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
                logits = stepper.step(next);
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
