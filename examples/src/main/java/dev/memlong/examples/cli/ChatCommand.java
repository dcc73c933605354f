package dev.memlong.examples.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.server.ChatServer;
import dev.memlong.storage.ConversationKey;
import java.io.BufferedReader;
import java.io.Console;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code memlong chat}: a conversation on the terminal, either in this process ({@code --model DIR --data DIR},
 * through the embeddable runtime) or on a running chat server ({@code --url ws://HOST:PORT/ws}, through its
 * WebSocket protocol). Reads user turns from stdin, one per line; streams each reply, or with {@code --jsonl}
 * prints one JSON object per reply. The conversation, its dialogue and its memory, continue when reopened.
 */
@Command(name = "chat", mixinStandardHelpOptions = true, description = {
        "Chat with a model that remembers: one user turn per stdin line, each",
        "reply streamed (or one JSON line per reply with --jsonl). Two modes:",
        "",
        "  in-process: memlong chat --model DIR --data DIR --conversation ID",
        "      the runtime runs in this JVM; the conversation lives in",
        "      DIR/rocksdb and continues when the same --data is reopened.",
        "  remote:     memlong chat --url ws://HOST:PORT/ws --conversation ID",
        "              [--api-key K]",
        "      a server started by `memlong main` (./dev main); the tenant is",
        "      the one the API key is bound to.",
        "",
        "When stdin is not a terminal (a pipe, a file) there is no prompt:",
        "each line in gives its reply out, for scripts.",
        ""})
final class ChatCommand implements Callable<Integer> {

    @Option(names = "--url", paramLabel = "WS_URL", description = "remote mode: the server's WebSocket endpoint, ws://HOST:PORT/ws")
    URI url;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:MEMLONG_API_KEY}",
            description = "remote mode: API key (default: $MEMLONG_API_KEY; none for a loopback server without keys)")
    String apiKey;

    /** The application configuration read when no --config is given (and it exists). */
    static final Path DEFAULT_CONFIG = Path.of("conf/application.conf");

    @Option(names = "--model", paramLabel = "DIR",
            description = "in-process mode: Hugging Face model directory (default: memlong.model.dir of the configuration)")
    Path model;

    @Option(names = "--data", paramLabel = "DIR", description = "in-process mode: data directory; the store is DIR/rocksdb")
    Path data;

    @Option(names = "--tenant", defaultValue = ConversationKey.DEFAULT_TENANT, paramLabel = "NAME",
            description = "in-process mode: tenant (default: ${DEFAULT-VALUE})")
    String tenant;

    @Option(names = "--config", paramLabel = "FILE",
            description = "in-process mode: HOCON file with memlong { ... } settings (default: conf/application.conf if it exists)")
    Path configFile;

    @Option(names = "--conversation", required = true, paramLabel = "ID", description = "conversation id")
    String conversation;

    @Option(names = "--jsonl", description = "one JSON line per reply: reply, retrieved, memory_tokens, window_tokens, ...")
    boolean jsonl;

    @Option(names = "--max-new-tokens", defaultValue = "256", paramLabel = "N", description = "reply length limit (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "X", description = "0 (default) is greedy")
    double temperature;

    @Override
    public Integer call() throws Exception {
        ChatParams params = new ChatParams(maxNewTokens, temperature, 0, temperature > 0 ? 0.9 : 1.0, 1.0, 0,
                List.of());
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        boolean interactive = !jsonl && stdinIsTerminal();
        ChatSession session = open();
        Thread closeOnExit = new Thread(session::close, "memlong-chat-close"); // Ctrl-C closes the store cleanly
        Runtime.getRuntime().addShutdownHook(closeOnExit);
        try (ChatSession chat = session;
             BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            prompt(interactive);
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isBlank()) {
                    prompt(interactive);
                    continue;
                }
                try {
                    if (jsonl) {
                        Json.print(json(chat.turn(line, params, d -> { }).join()));
                    } else {
                        chat.turn(line, params, out::print).join();
                        out.println();
                    }
                } catch (CompletionException e) {
                    throw e.getCause() instanceof ChatException c
                            ? new IllegalStateException(c.code().wireName() + ": " + c.getMessage(), c) : e;
                }
                prompt(interactive);
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(closeOnExit);
            } catch (IllegalStateException exiting) {
                // the hook is running or has run
            }
        }
        return 0;
    }

    private ChatSession open() {
        if (url != null) {
            if (model != null || data != null || configFile != null) {
                throw new IllegalArgumentException("--url (remote) and --model/--data/--config (in-process) exclude "
                        + "each other");
            }
            if (!"ws".equals(url.getScheme()) && !"wss".equals(url.getScheme())) {
                throw new IllegalArgumentException("--url must be ws://HOST:PORT/ws, got " + url);
            }
            return new RemoteChat(url, apiKey, conversation);
        }
        if (data == null) {
            throw new IllegalArgumentException("give --url ws://HOST:PORT/ws, or --data DIR (and --model DIR, default "
                    + "memlong.model.dir of the configuration)");
        }
        if (configFile != null && !java.nio.file.Files.isRegularFile(configFile)) {
            throw new IllegalArgumentException("config file " + configFile + " not found");
        }
        Map<String, Object> options = new java.util.LinkedHashMap<>();
        options.put("memlong.storage.path", data.resolve("rocksdb").toString());
        if (model != null) {
            options.put("memlong.model.dir", model.toString());
        }
        Path file = configFile != null ? configFile
                : java.nio.file.Files.isRegularFile(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null;
        Config overrides = ConfigFactory.parseMap(options);
        Config config = file == null ? overrides : overrides.withFallback(ConfigFactory.parseFile(file.toFile()));
        return new InProcessChat(ChatServer.runtimeConfig(config), tenant, conversation);
    }

    /** Whether stdin is a terminal (JDK 22+ returns a Console for redirected streams too; ask it). */
    static boolean stdinIsTerminal() {
        Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 21: a console exists only for a terminal
        }
    }

    private static void prompt(boolean interactive) {
        if (interactive) {
            System.err.print("> ");
            System.err.flush();
        }
    }

    static Map<String, Object> json(ChatReply reply) {
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
