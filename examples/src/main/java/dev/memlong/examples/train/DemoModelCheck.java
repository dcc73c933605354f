package dev.memlong.examples.train;

import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.retriever.Retriever;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A quick recall check (facts 1k and 4k tokens back, both beyond the window) on a conversation from a seed the
 * training never used; {@code memlong bench recall} is the full one. {@code memlong train-demo} runs it on the model it
 * trained (or, with --eval-only, on the model in --out).
 */
public final class DemoModelCheck {

    private DemoModelCheck() {}

    /**
     * @param seed          the training's seed: the check's conversations and drills come from seeds far from it
     * @param facts         facts per distance
     * @param lexicalWeight the retriever's share of word overlap, as in {@link DemoTraining#retriever}
     */
    public static Map<String, Object> run(Path model, long seed, int facts, double lexicalWeight) {
        try (ModelBundle bundle = ModelBundle.open(model);
             Retriever retriever = DemoTraining.retriever(lexicalWeight)) {
            RecallCheck.Result r = RecallCheck.run(bundle, retriever, MemLongEngine.defaultSettings(bundle),
                    new RecallCheck.Options(new int[] {1024, 4096}, facts, seed + 1_000_003, 10), System.err);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("distances", r.distances());
            json.put("ppl_memory", r.pplMemory());
            json.put("ppl_window_only", r.pplWindowOnly());
            json.put("ppl_assistant_memory", r.pplAssistantMemory());
            json.put("ppl_assistant_window_only", r.pplAssistantWindowOnly());
            json.put("samples", r.samples());
            // reading alone, on held-out stage-1 drills (memory = the stated segment, no retrieval)
            DrillReadingCheck.Result drills = DrillReadingCheck.run(model, MemLongEngine.defaultSettings(bundle),
                    bundle.tokenizer(), seed + 2_000_003, 60);
            json.put("drill_reading", drills.accuracy());
            json.put("drill_values", drills.values());
            // whether the stored key says whose value it is (and which attribute): what reading the right one needs
            json.put("key_probe", KeyProbe.run(model, MemLongEngine.defaultSettings(bundle), bundle.tokenizer(),
                    seed + 3_000_003, 400));
            return json;
        }
    }
}
