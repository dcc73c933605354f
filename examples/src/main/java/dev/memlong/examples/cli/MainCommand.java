package dev.memlong.examples.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.memlong.server.ChatServer;
import java.io.File;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job: the chat server on the embedded defaults of {@code conf/application.conf} (the model of
 * {@code memlong.model.dir}, the store under {@code ./data}, the gateway on 127.0.0.1:8080). Prints where it
 * listens as one JSON object, then serves until SIGINT/SIGTERM, when a shutdown hook stops it gracefully
 * (requests in flight finish, the store closes cleanly); started again on the same data, every conversation
 * resumes.
 */
@Command(name = "main", mixinStandardHelpOptions = true, description = {
        "Runs the chat server on conf/application.conf: the web chat page at",
        "http://HOST:PORT/, WebSocket + Protobuf at /ws, the OpenAI-compatible",
        "API at /v1. Prints {\"url\":...} and serves until Ctrl-C (SIGINT or",
        "SIGTERM), which stops it gracefully. With no API keys configured it",
        "listens on loopback only.", ""})
final class MainCommand implements Callable<Integer> {

    @Option(names = "--config", defaultValue = "conf/application.conf", paramLabel = "FILE",
            description = "application config (default: ${DEFAULT-VALUE})")
    File config;

    @Option(names = "--host", paramLabel = "ADDR", description = "overrides memlong.gateway.host (default 127.0.0.1)")
    String host;

    @Option(names = "--port", paramLabel = "N", description = "overrides memlong.gateway.port (default 8080; 0 = any free port)")
    Integer port;

    @Option(names = "--data", paramLabel = "DIR",
            description = "data directory; the store is DIR/rocksdb (default: memlong.storage.path, ./data/rocksdb)")
    Path data;

    @Override
    public Integer call() throws InterruptedException {
        ChatServer server = ChatServer.start(config());
        Thread hook = new Thread(server::close, "memlong-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("url", server.url());
        out.put("websocket", server.webSocketUri().toString());
        out.put("openai_base_url", server.url() + "v1");
        out.put("model", server.modelId());
        Json.print(out);
        System.err.println("MemLong chat server: open " + server.url() + " in a browser; Ctrl-C stops it.");
        server.awaitClosed();
        return 0;
    }

    /** The application config with the command-line overrides on top. */
    Config config() {
        if (!config.isFile()) {
            throw new IllegalArgumentException("config file " + config + " not found");
        }
        Config c = ConfigFactory.parseFile(config);
        if (host != null) {
            c = c.withValue("memlong.gateway.host", ConfigValueFactory.fromAnyRef(host));
        }
        if (port != null) {
            c = c.withValue("memlong.gateway.port", ConfigValueFactory.fromAnyRef(port));
        }
        if (data != null) {
            c = c.withValue("memlong.storage.path", ConfigValueFactory.fromAnyRef(data.resolve("rocksdb").toString()));
        }
        return c;
    }
}
