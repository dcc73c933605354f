package dev.memlong.gateway.server;

import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.config.GatewaySettings;
import dev.memlong.gateway.security.AuthHandler;
import dev.memlong.gateway.security.BrowserGuard;
import dev.memlong.gateway.ws.ProtobufFrameCodec;
import dev.memlong.gateway.ws.WsSessionHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.compression.WebSocketServerCompressionHandler;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.TimeUnit;

/**
 * The pipeline of a client connection, nothing else: HTTP codec, body aggregation (with the size limit),
 * one request at a time ({@link HttpPipelining}), the browser checks ({@link BrowserGuard}), authentication, WebSocket compression and protocol handling at {@code /ws} (frame size limit, handshake timeout),
 * frame aggregation, plain HTTP routes, the Protobuf frame codec and the WebSocket session.
 */
final class GatewayInitializer extends ChannelInitializer<SocketChannel> {

    /** The WebSocket path. */
    static final String WS_PATH = "/ws";

    private final GatewayContext gw;
    private final AuthHandler auth;
    private final BrowserGuard guard;

    GatewayInitializer(GatewayContext gw) {
        this.gw = gw;
        this.auth = new AuthHandler(gw.apiKeys(), WS_PATH);
        this.guard = new BrowserGuard(!gw.apiKeys().required(), gw.settings().allowedOrigins(), WS_PATH);
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        GatewaySettings s = gw.settings();
        gw.channels().add(ch);
        gw.metrics().connections().incrementAndGet();
        ch.closeFuture().addListener(f -> gw.metrics().connections().decrementAndGet());
        ChannelPipeline p = ch.pipeline();
        if (!s.idleTimeout().isZero()) {
            p.addLast("idle", new IdleStateHandler(0, 0, s.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
        }
        p.addLast("http", new HttpServerCodec());
        p.addLast("aggregate", new BodyLimitAggregator(s.maxBodyBytes(), () -> gw.metrics().error(ErrorCode.TOO_LARGE)));
        HttpPipelining pipelining = new HttpPipelining(s.maxRequestsPerConnection());
        p.addLast("pipelining", pipelining);
        p.addLast("guard", guard);
        p.addLast("auth", auth);
        if (s.websocketCompression()) {
            p.addLast("ws-deflate", new WebSocketServerCompressionHandler(s.maxFrameBytes()));
        }
        p.addLast("ws", new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(WS_PATH)
                .checkStartsWith(true)
                .allowExtensions(s.websocketCompression())
                .maxFramePayloadLength(s.maxFrameBytes())
                .handshakeTimeoutMillis(s.handshakeTimeout().toMillis())
                .dropPongFrames(true)
                .build()));
        p.addLast("ws-aggregate", new WebSocketFrameAggregator(s.maxFrameBytes()));
        p.addLast("router", new HttpRouter(gw, pipelining));
        p.addLast("ws-codec", new ProtobufFrameCodec());
        p.addLast("ws-session", new WsSessionHandler(gw));
    }
}
