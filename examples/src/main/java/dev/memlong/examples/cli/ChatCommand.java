package dev.memlong.examples.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.Conversation;
import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.MemLongRuntime;
import dev.memlong.actors.Reply;
import dev.memlong.actors.StreamEvent;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code memlong chat}: an in-process conversation through the embeddable runtime. Reads user turns from stdin
 * (one per line); streams each reply, or with {@code --jsonl} prints one JSON object per reply. The same data
 * directory reopened later continues the conversation with its memory.
 */
@Command(name = "chat", description = {
        "Chat with a model that remembers: one user turn per stdin line, replies streamed (or --jsonl).",
        "The conversation, its dialogue and its memory live in --data and continue when reopened."})
final class ChatCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR",
            description = "Hugging Face model directory (default: memlong.model.dir of the configuration)")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "storage directory (RocksDB)")
    Path data;

    @Option(names = "--conversation", required = true, paramLabel = "ID", description = "conversation id")
    String conversation;

    @Option(names = "--tenant", defaultValue = "default", paramLabel = "NAME", description = "tenant (default: default)")
    String tenant;

    @Option(names = "--jsonl", description = "one JSON line per reply: reply, retrieved, memory_tokens, window_tokens")
    boolean jsonl;

    @Option(names = "--max-new-tokens", defaultValue = "256", paramLabel = "N", description = "reply length limit")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "X", description = "0 (default) is greedy")
    double temperature;

    @Option(names = "--config", paramLabel = "FILE",
            description = "HOCON file with memlong { ... } settings (default: conf/application.conf if it exists)")
    Path configFile;

    /** The application configuration read when no --config is given (and it exists). */
    static final Path DEFAULT_CONFIG = Path.of("conf/application.conf");

    @Override
    public Integer call() throws Exception {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("memlong.storage.path", data.toString());
        if (model != null) {
            options.put("memlong.model.dir", model.toString());
        }
        Path file = configFile != null ? configFile : Files.isRegularFile(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null;
        if (configFile != null && !Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException("config file " + configFile + " not found");
        }
        Config overrides = ConfigFactory.parseMap(options);
        Config config = file == null ? overrides : overrides.withFallback(ConfigFactory.parseFile(file.toFile()));
        GenerationParams params = new GenerationParams(maxNewTokens, temperature, 0, temperature > 0 ? 0.9 : 1.0,
                1.0, 0, List.of(), false);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (MemLongRuntime rt = MemLongRuntime.start(config);
             BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            Conversation chat = rt.conversation(tenant, conversation);
            if (!jsonl) {
                System.err.print("> ");
            }
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                if (jsonl) {
                    Json.print(json(chat.send(line, params).join()));
                } else {
                    stream(chat, line, params, out).join();
                    out.println();
                    System.err.print("> ");
                }
            }
        }
        return 0;
    }

    private static CompletableFuture<Reply> stream(Conversation chat, String line, GenerationParams params,
                                                   PrintStream out) {
        CompletableFuture<Reply> done = new CompletableFuture<>();
        chat.stream(line, params).subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(StreamEvent event) {
                switch (event) {
                    case StreamEvent.Delta d -> out.print(d.text());
                    case StreamEvent.Completed c -> done.complete(c.reply());
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onComplete() { }
        });
        return done;
    }

    static Map<String, Object> json(Reply reply) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reply", reply.text());
        m.put("retrieved", reply.retrieved().stream().map(c -> {
            Map<String, Object> chunk = new LinkedHashMap<>();
            chunk.put("seq", c.seq());
            chunk.put("text", c.text());
            return chunk;
        }).toList());
        m.put("memory_tokens", reply.memoryTokens());
        m.put("window_tokens", reply.windowTokens());
        m.put("prompt_tokens", reply.promptTokens());
        m.put("completion_tokens", reply.completionTokens());
        m.put("ttft_ms", reply.timeToFirstToken().toNanos() / 1e6);
        m.put("tokens_per_second", reply.tokensPerSecond());
        return m;
    }
}
