package dev.memlong.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.memlong.actors.MemLongRuntime;
import dev.memlong.gateway.config.GatewaySettings;
import dev.memlong.gateway.server.GatewayServer;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.server.backend.RuntimeChatBackend;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat server: a {@link MemLongRuntime} (model, conversation actors, the store) behind a {@link GatewayServer}
 * through a {@link RuntimeChatBackend}, started and stopped as one.
 *
 * <pre>{@code
 * try (ChatServer server = ChatServer.start(ConfigFactory.parseFile(new File("conf/application.conf")))) {
 *     System.out.println(server.url());
 *     server.awaitClosed();   // until close(), e.g. from a shutdown hook
 * }
 * }</pre>
 *
 * {@link #close()} stops in the order that loses nothing: the gateway stops accepting and lets requests in flight
 * finish (up to {@code memlong.gateway.shutdown-timeout}), then closes connections (cancelling what still runs);
 * then the runtime waits for its turns (up to its own {@code shutdown-timeout}), stops its actors and
 * closes the store. Committed turns are on disk, so a server started again on the same data resumes every
 * conversation. Pekko's own JVM shutdown hook is switched off: the server's owner (the main job's hook) decides
 * when and in which order things stop.
 */
public final class ChatServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChatServer.class);

    private final MemLongRuntime runtime;
    private final RuntimeChatBackend backend;
    private final GatewayServer gateway;
    private final String modelId;
    private final CountDownLatch closed = new CountDownLatch(1);
    private boolean closing;

    private ChatServer(MemLongRuntime runtime, RuntimeChatBackend backend, GatewayServer gateway, String modelId) {
        this.runtime = runtime;
        this.backend = backend;
        this.gateway = gateway;
        this.modelId = modelId;
    }

    /** Starts a server on {@code config} (the application's settings; every module's reference.conf beneath). */
    public static ChatServer start(Config config) {
        return builder(config).start();
    }

    public static Builder builder(Config config) {
        return new Builder(config);
    }

    /** Options beyond the configuration. */
    public static final class Builder {
        private final Config config;
        private Retriever retriever;
        private Map<String, String> environment = System.getenv();

        private Builder(Config config) {
            this.config = config;
        }

        /** A retriever to use instead of the configured one (not closed by the server). */
        public Builder retriever(Retriever shared) {
            this.retriever = shared;
            return this;
        }

        /** Where {@code memlong.gateway.api-keys-env} is looked up (default: the process environment). */
        public Builder environment(Map<String, String> env) {
            this.environment = Map.copyOf(env);
            return this;
        }

        public ChatServer start() {
            return ChatServer.start(this);
        }
    }

    private static ChatServer start(Builder b) {
        Config config = runtimeConfig(b.config);
        GatewaySettings gatewaySettings = GatewaySettings.from(config, b.environment); // fail before loading a model
        MemLongRuntime.Builder rb = MemLongRuntime.builder(config);
        if (b.retriever != null) {
            rb.retriever(b.retriever);
        }
        MemLongRuntime runtime = rb.start();
        // The id the runtime stores conversations under (memlong.actors.model-id, or for "auto" the model
        // directory's name), asked of the runtime itself so /v1/models and the store cannot disagree.
        String modelId = runtime.settings().modelId(runtime.modelDir());
        RuntimeChatBackend backend = new RuntimeChatBackend(runtime, modelId);
        try {
            GatewayServer gateway = GatewayServer.start(gatewaySettings, backend);
            LOG.info("chat server on {} (model {}, store {})", gateway.url(), modelId,
                    config.getString("memlong.storage.path"));
            return new ChatServer(runtime, backend, gateway, modelId);
        } catch (RuntimeException e) {
            backend.close();
            runtime.close();
            throw e;
        }
    }

    /**
     * The configuration the runtime and gateway read: {@code config} over every reference.conf, with Pekko's JVM
     * shutdown hook off (this server's own hook orders the shutdown). Also what an embedded runtime on the
     * application's settings should start with ({@code memlong chat --model}).
     */
    public static Config runtimeConfig(Config config) {
        Config extra = ConfigFactory.empty().withValue("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook",
                ConfigValueFactory.fromAnyRef("off"));
        return extra.withFallback(config).withFallback(ConfigFactory.defaultReference()).resolve();
    }

    /** The config root of the actor runtime's own settings (batch, queue, timeouts). */
    public static String actorSettingsRoot() {
        return "memlong.actors";
    }

    /** {@code http://HOST:PORT/}: the web chat page. */
    public String url() {
        return gateway.url();
    }

    /** {@code ws://HOST:PORT/ws}: the WebSocket endpoint. */
    public URI webSocketUri() {
        return URI.create(gateway.url().replaceFirst("^http", "ws") + "ws");
    }

    /** The bound port. */
    public int port() {
        return gateway.port();
    }

    /**
     * The model id the server lists ({@code GET /v1/models}), accepts as a chat completion's {@code model}, and
     * stores conversations under: {@code memlong.actors.model-id}, or for {@code auto} the model directory's name.
     */
    public String modelId() {
        return modelId;
    }

    public MemLongRuntime runtime() {
        return runtime;
    }

    public GatewayServer gateway() {
        return gateway;
    }

    /** Blocks until {@link #close()} has finished (from any thread). */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /** Stops gracefully (see the class doc); idempotent, and a second caller waits for the first to finish. */
    @Override
    public void close() {
        synchronized (this) {
            if (closing) {
                try {
                    closed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            closing = true;
        }
        try {
            LOG.info("chat server stopping: draining requests in flight");
            gateway.close();
        } finally {
            try {
                backend.close();
                runtime.close();
                LOG.info("chat server stopped; the store is closed");
            } finally {
                closed.countDown();
            }
        }
    }
}
