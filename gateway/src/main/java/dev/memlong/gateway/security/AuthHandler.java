package dev.memlong.gateway.security;

import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.server.HttpResponses;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

import java.util.List;
import java.util.Optional;

/**
 * Authenticates each HTTP request (the API under {@code /v1/} and the WebSocket upgrade of {@code /ws}; every path
 * but the public ones, so an unknown path never slips past): the key comes from
 * {@code Authorization: Bearer KEY}, or (for {@code /ws} only, since browsers cannot set headers on a WebSocket)
 * the {@code api_key} query parameter. The caller's tenant is stored in the channel attribute {@link #TENANT};
 * an unknown key gets 401 and the request goes no further. The page, {@code /healthz} and {@code /metrics} need
 * no key. Frames after the upgrade pass through untouched.
 */
@ChannelHandler.Sharable
public final class AuthHandler extends ChannelInboundHandlerAdapter {

    /** The tenant of the channel's current request (HTTP) or of the whole connection (WebSocket). */
    public static final AttributeKey<String> TENANT = AttributeKey.valueOf("memlong.tenant");

    /** Paths anyone may read: the page, health and metrics (which carry no tenant data). All others need a key. */
    private static final java.util.Set<String> PUBLIC = java.util.Set.of("/", "/index.html", "/app.js", "/app.css",
            "/healthz", "/metrics");

    private final ApiKeys keys;
    private final String wsPath;

    public AuthHandler(ApiKeys keys, String wsPath) {
        this.keys = keys;
        this.wsPath = wsPath;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request) || request.decoderResult().isFailure()) {
            ctx.fireChannelRead(msg);
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        if (PUBLIC.contains(uri.path())) {
            ctx.fireChannelRead(msg);
            return;
        }
        boolean ws = uri.path().equals(wsPath) || uri.path().startsWith(wsPath + "/");
        Optional<String> tenant = keys.tenantOf(presentedKey(request, ws ? uri : null));
        if (tenant.isEmpty()) {
            boolean keepAlive = io.netty.handler.codec.http.HttpUtil.isKeepAlive(request);
            ReferenceCountUtil.release(msg);
            HttpResponses.sendError(ctx, ErrorCode.UNAUTHENTICATED, "missing or unknown API key", keepAlive && !ws);
            return;
        }
        ctx.channel().attr(TENANT).set(tenant.get());
        ctx.fireChannelRead(msg);
    }

    private static String presentedKey(FullHttpRequest request, QueryStringDecoder wsUri) {
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return header.substring(7).strip();
        }
        if (wsUri != null) {
            List<String> values = wsUri.parameters().get("api_key");
            if (values != null && values.size() == 1) {
                return values.get(0);
            }
        }
        return null;
    }
}
