package dev.memlong.examples.cli;

import dev.memlong.examples.train.DemoModelCheck;
import dev.memlong.examples.train.DemoTraining;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code memlong train-demo}: trains the shipped demo model ({@link DemoTraining}: two stages on synthetic dialogues,
 * fixed seed) into --out, guarded by {@link TrainDemoRunDirectory}, then runs a quick recall check on it
 * ({@link DemoModelCheck}). Prints the stages' outcomes and the check as JSON.
 */
@Command(name = "train-demo", mixinStandardHelpOptions = true, description = "Train the shipped demo model (two stages, synthetic dialogues, fixed seed)")
final class TrainDemoCommand implements Callable<Integer> {

    @Mixin
    TrainDemoOptions options;

    @Override
    public Integer call() throws Exception {
        if (options.evalOnly) {
            Json.print(check());
            return 0;
        }
        options.validate();
        TrainDemoRunDirectory runDirectory = runDirectory();
        runDirectory.checkOut();
        runDirectory.prepare();
        DemoTraining.Result trained = new DemoTraining(options.recipe(), options.out, options.resume).run();
        if (!options.keep && !options.resume) {
            runDirectory.removeIntermediates();
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("stage1", trained.stage1());
        json.put("stage2", trained.stage2());
        json.put("out", options.out.toString());
        if (options.evalFacts > 0) {
            json.put("recall", check());
        }
        Json.print(json);
        return 0;
    }

    TrainDemoRunDirectory runDirectory() {
        return new TrainDemoRunDirectory(options.out, options.force, options.resume, options.trainingOptions());
    }

    private Map<String, Object> check() {
        return DemoModelCheck.run(options.out, options.seed, options.evalFacts, options.lexicalWeight);
    }
}
