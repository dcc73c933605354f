package dev.memlong.gateway.server;

import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.openai.ChatCompletions;
import dev.memlong.gateway.security.AuthHandler;
import dev.memlong.gateway.web.StaticAssets;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;

import java.util.Map;
import java.util.Optional;

/**
 * Plain HTTP requests (everything but the WebSocket upgrade): the page, {@code /healthz}, {@code /metrics} and
 * the OpenAI API. A request that failed to decode gets 400 and the connection closes. One per connection.
 */
public final class HttpRouter extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final GatewayContext gw;
    private final ChatCompletions completions;

    public HttpRouter(GatewayContext gw) {
        this.gw = gw;
        this.completions = new ChatCompletions(gw);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            gw.metrics().error(ErrorCode.INVALID);
            HttpResponses.sendError(ctx, ErrorCode.INVALID, "malformed HTTP request", false);
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        String path = new QueryStringDecoder(request.uri()).path();
        HttpMethod method = request.method();
        switch (path) {
            case "/healthz" -> {
                if (expect(ctx, method, HttpMethod.GET, keepAlive)) {
                    boolean draining = gw.draining().get();
                    HttpResponses.send(ctx, draining ? HttpResponseStatus.SERVICE_UNAVAILABLE : HttpResponseStatus.OK,
                            Map.of("status", draining ? "draining" : "ok"), keepAlive);
                }
            }
            case "/metrics" -> {
                if (expect(ctx, method, HttpMethod.GET, keepAlive)) {
                    HttpResponses.sendText(ctx, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8",
                            gw.metrics().scrape(), keepAlive);
                }
            }
            case "/v1/models" -> {
                if (expect(ctx, method, HttpMethod.GET, keepAlive)) {
                    completions.models(ctx, keepAlive);
                }
            }
            case "/v1/chat/completions" -> {
                if (expect(ctx, method, HttpMethod.POST, keepAlive)) {
                    completions.complete(ctx, request, ctx.channel().attr(AuthHandler.TENANT).get());
                }
            }
            default -> page(ctx, method, path, keepAlive);
        }
    }

    private void page(ChannelHandlerContext ctx, HttpMethod method, String path, boolean keepAlive) {
        Optional<StaticAssets.Asset> asset = gw.assets().get(path);
        if (asset.isEmpty()) {
            gw.metrics().error(ErrorCode.NOT_FOUND);
            HttpResponses.sendError(ctx, ErrorCode.NOT_FOUND, "no such path", keepAlive);
        } else if (expect(ctx, method, HttpMethod.GET, keepAlive)) {
            HttpResponses.send(ctx, HttpResponseStatus.OK, asset.get().contentType(),
                    Unpooled.wrappedBuffer(asset.get().bytes()), keepAlive);
        }
    }

    private boolean expect(ChannelHandlerContext ctx, HttpMethod actual, HttpMethod wanted, boolean keepAlive) {
        if (actual.equals(wanted)) {
            return true;
        }
        gw.metrics().error(ErrorCode.INVALID);
        HttpResponses.send(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                HttpResponses.errorBody(ErrorCode.INVALID, "use " + wanted + " here"), keepAlive);
        return false;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        completions.closed();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
