package dev.memlong.examples.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.generate.Generation;
import dev.memlong.runtime.generate.SamplingParams;
import dev.memlong.runtime.settings.RuntimeSettings;
import java.io.File;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job on the embedded defaults from {@code conf/application.conf}. Until the chat server exists it
 * generates a reply to the configured prompt with the configured default model.
 */
@Command(name = "main", mixinStandardHelpOptions = true, description = "Runs the main job with conf/application.conf (until the chat server exists: a generation with the default model)")
final class MainCommand implements Callable<Integer> {

    @Option(names = "--config", defaultValue = "conf/application.conf", paramLabel = "FILE", description = "application config")
    File config;

    @Option(names = "--prompt", paramLabel = "TEXT", description = "overrides memlong.main.prompt")
    String prompt;

    @Override
    public Integer call() {
        if (!config.isFile()) {
            throw new IllegalArgumentException("config file " + config + " not found");
        }
        Config c = ConfigFactory.parseFile(config).withFallback(ConfigFactory.defaultReference()).resolve();
        RuntimeSettings settings = RuntimeSettings.from(c);
        Config main = c.getConfig("memlong.main");
        Path modelDir = settings.modelDir();
        String text = prompt != null ? prompt : main.getString("prompt");
        int maxNew = main.getInt("max-new-tokens");
        try (ModelBundle bundle = ModelBundle.open(modelDir, settings.modelOptions())) {
            int[] ids = bundle.tokenizer().encode(text, true);
            Generation g = bundle.generator().generate(ids, SamplingParams.greedy(maxNew)
                    .withStopTokens(bundle.tokenizer().eosTokenIds()));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", modelDir.toString());
            out.put("prompt", text);
            out.put("ids", g.ids());
            out.put("text", g.text());
            out.put("tokens_per_second", g.decodeNanos() > 0 ? (g.ids().length - 1) * 1e9 / g.decodeNanos() : 0);
            Json.print(out);
        }
        return 0;
    }
}
