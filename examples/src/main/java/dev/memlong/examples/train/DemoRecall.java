package dev.memlong.examples.train;

import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.generate.Generation;
import dev.memlong.runtime.generate.SamplingParams;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A quick recall check of a dialogue model: dialogues from a seed the training never used; the dialogue up to its
 * last question is streamed through a MemLong sequence, then the question is asked and the greedy answer is checked
 * for the fact's value. Counted separately for facts stated within the local window and beyond it, with memory and
 * with the window only.
 */
public final class DemoRecall {

    private DemoRecall() {}

    public static Map<String, Object> evaluate(ModelBundle bundle, Retriever retriever, MemorySettings settings,
                                               int dialogues, long seed) {
        ChatTemplate template = bundle.chatTemplate().orElseThrow();
        SyntheticDialogues gen = new SyntheticDialogues(seed);
        MemLongEngine engine = new MemLongEngine(bundle, retriever, settings);
        int[][] hits = new int[2][2];   // [memory on/off][within window / beyond]
        int[] counts = new int[2];
        List<String> samples = new ArrayList<>();
        for (int d = 0; d < dialogues; d++) {
            List<ChatMessage> dialogue = gen.dialogue(1, 14);
            List<ChatMessage> context = dialogue.subList(0, dialogue.size() - 2);
            ChatMessage question = dialogue.get(dialogue.size() - 2);
            String answer = dialogue.get(dialogue.size() - 1).content();
            String value = answer.substring(answer.lastIndexOf(' ') + 1, answer.length() - 1);
            int[] contextIds = bundle.tokenizer().encode(TrainingData.render(context, Optional.of(template)), false);
            int[] prompt = bundle.tokenizer().encode(template.render(List.of(question), true), false);
            String firstTurn = context.get(0).content();
            boolean beyond = !firstTurn.contains(value) || contextIds.length + prompt.length > settings.localWindow();
            int distance = beyond ? 1 : 0;
            counts[distance]++;
            for (int mem = 0; mem < 2; mem++) {
                try (KvCachePool cache = engine.newCache(1); MemoryBank bank = engine.newInMemoryBank();
                     MemLongSequence seq = engine.newSequence(cache, 0, bank)) {
                    seq.setMemoryEnabled(mem == 0);
                    seq.feed(contextIds, true, false, null);
                    Generation g = bundle.generator().generate(MemLongEngine.stepper(seq), prompt,
                            SamplingParams.greedy(12).withStopTokens(bundle.tokenizer().eosTokenIds()),
                            dev.memlong.runtime.generate.TokenListener.NONE);
                    if (g.text().contains(value)) {
                        hits[mem][distance]++;
                    }
                    if (mem == 0 && samples.size() < 5) {
                        samples.add(question.content() + " -> " + g.text().trim() + " (expected " + value + ", "
                                + contextIds.length + " context tokens)");
                    }
                }
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("dialogues", dialogues);
        out.put("facts_within_window", counts[0]);
        out.put("facts_beyond_window", counts[1]);
        out.put("accuracy_memory_within_window", ratio(hits[0][0], counts[0]));
        out.put("accuracy_memory_beyond_window", ratio(hits[0][1], counts[1]));
        out.put("accuracy_window_only_within_window", ratio(hits[1][0], counts[0]));
        out.put("accuracy_window_only_beyond_window", ratio(hits[1][1], counts[1]));
        out.put("samples", samples);
        return out;
    }

    private static double ratio(int a, int b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }
}
