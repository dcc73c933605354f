package dev.memlong.gateway.testing;

import com.typesafe.config.ConfigFactory;
import dev.memlong.gateway.backend.echo.EchoBackend;
import dev.memlong.gateway.config.GatewaySettings;
import dev.memlong.gateway.server.GatewayServer;

import java.net.URI;
import java.time.Duration;
import java.util.Map;

/** A gateway on a free loopback port over an {@link EchoBackend}; {@code hocon} overrides {@code memlong.gateway}. */
public final class TestGateway implements AutoCloseable {

    public final EchoBackend backend;
    public final GatewayServer server;

    public TestGateway(String hocon, Duration tokenDelay, int maxConcurrentTurns) {
        backend = new EchoBackend(tokenDelay, maxConcurrentTurns);
        GatewaySettings settings = GatewaySettings.from(
                ConfigFactory.parseString("memlong.gateway { port = 0, io-threads = 2\n" + hocon + "\n}"), Map.of());
        server = GatewayServer.start(settings, backend);
    }

    public TestGateway(String hocon) {
        this(hocon, Duration.ZERO, 64);
    }

    public URI http(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    public URI ws(String query) {
        return URI.create("ws://127.0.0.1:" + server.port() + "/ws" + query);
    }

    @Override
    public void close() {
        server.close();
        backend.close();
    }
}
