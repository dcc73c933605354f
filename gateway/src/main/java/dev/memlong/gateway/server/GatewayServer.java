package dev.memlong.gateway.server;

import dev.memlong.gateway.backend.ChatBackend;
import dev.memlong.gateway.config.GatewaySettings;
import dev.memlong.gateway.metrics.GatewayMetrics;
import dev.memlong.gateway.security.ApiKeys;
import dev.memlong.gateway.security.TenantRateLimiter;
import dev.memlong.gateway.web.StaticAssets;
import dev.memlong.gateway.ws.WsSessionHandler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.util.concurrent.GlobalEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The gateway: one Netty server on one port in front of a {@link ChatBackend}. {@link #start} binds and returns;
 * {@link #close} shuts down gracefully: stop accepting, report draining on {@code /healthz} and refuse new
 * requests on open connections with {@code UNAVAILABLE}, let requests in flight finish (up to
 * {@code shutdown-timeout}), close the connections (WebSockets with status 1001, going away), stop the event
 * loops.
 */
public final class GatewayServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayServer.class);

    private final GatewayContext gw;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel serverChannel;
    private final AtomicBoolean closed = new AtomicBoolean();

    private GatewayServer(GatewayContext gw, EventLoopGroup boss, EventLoopGroup workers, Channel serverChannel) {
        this.gw = gw;
        this.boss = boss;
        this.workers = workers;
        this.serverChannel = serverChannel;
    }

    /**
     * Binds and starts serving. With no API keys configured the server binds to 127.0.0.1 whatever
     * {@code settings.host()} says, and logs that it did.
     *
     * @throws IllegalStateException when the address cannot be bound
     */
    public static GatewayServer start(GatewaySettings settings, ChatBackend backend) {
        InetSocketAddress address = bindAddress(settings);
        GatewayContext gw = new GatewayContext(settings, backend,
                new ApiKeys(settings.apiKeys(), settings.anonymousTenant()),
                new TenantRateLimiter(settings.requestsPerSecond(), settings.burst()), new GatewayMetrics(backend),
                StaticAssets.load(), new DefaultChannelGroup("memlong-gateway", GlobalEventExecutor.INSTANCE),
                new AtomicBoolean());
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(settings.ioThreads(), NioIoHandler.newFactory());
        try {
            Channel ch = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new GatewayInitializer(gw))
                    .bind(address).sync().channel();
            GatewayServer server = new GatewayServer(gw, boss, workers, ch);
            LOG.info("gateway listening on {} ({})", server.url(), settings.authRequired()
                    ? settings.apiKeys().size() + " API keys" : "no API keys: loopback only, tenant "
                    + settings.anonymousTenant());
            return server;
        } catch (Exception e) {
            boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
    }

    private static InetSocketAddress bindAddress(GatewaySettings settings) {
        try {
            InetAddress host = InetAddress.getByName(settings.host());
            if (!settings.authRequired() && !host.isLoopbackAddress()) {
                LOG.warn("no API keys configured (memlong.gateway.api-keys, or the api-keys-env variable): binding to "
                        + "127.0.0.1 instead of {}", settings.host());
                host = InetAddress.getLoopbackAddress();
            }
            return new InetSocketAddress(host, settings.port());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("memlong.gateway.host: unknown host " + settings.host(), e);
        }
    }

    /** The bound address (the real port when the settings said 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** The bound port. */
    public int port() {
        return address().getPort();
    }

    /** {@code http://HOST:PORT/}. */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort() + "/";
    }

    /** The server's metrics. */
    public GatewayMetrics metrics() {
        return gw.metrics();
    }

    /** Whether {@link #close} has begun: new requests are refused while the ones in flight finish. */
    public boolean draining() {
        return gw.draining().get();
    }

    /** Closes every client connection, a WebSocket with a close frame first so its client knows why. */
    private void closeConnections() {
        List<ChannelFuture> closing = new ArrayList<>();
        for (Channel ch : gw.channels()) {
            if (WsSessionHandler.isWebSocket(ch)) {
                closing.add(ch.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE,
                        "server shutting down")).addListener(ChannelFutureListener.CLOSE));
            } else {
                closing.add(ch.close());
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (ChannelFuture f : closing) {
            f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        gw.channels().close().awaitUninterruptibly(1, TimeUnit.SECONDS); // any whose close frame could not go out
    }

    /** Shuts down gracefully (see the class doc); idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        gw.draining().set(true);
        try {
            serverChannel.close().syncUninterruptibly();
            long deadline = System.nanoTime() + gw.settings().shutdownTimeout().toNanos();
            while (gw.metrics().inFlight().get() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (gw.metrics().inFlight().get() > 0) {
                LOG.warn("closing with {} requests still in flight", gw.metrics().inFlight().get());
            }
            closeConnections();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            workers.shutdownGracefully(50, 5000, TimeUnit.MILLISECONDS).syncUninterruptibly();
            boss.shutdownGracefully(0, 1000, TimeUnit.MILLISECONDS).syncUninterruptibly();
            LOG.info("gateway stopped");
        }
    }
}
