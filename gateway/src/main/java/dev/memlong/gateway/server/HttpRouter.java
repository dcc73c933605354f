package dev.memlong.gateway.server;

import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.openai.ChatCompletions;
import dev.memlong.gateway.security.AuthHandler;
import dev.memlong.gateway.web.StaticAssets;
import dev.memlong.gateway.ws.WsSessionHandler;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Optional;

/**
 * Plain HTTP requests (everything but the WebSocket upgrade): the page, {@code /healthz}, {@code /metrics} and
 * the OpenAI API. A request that failed to decode gets 400 and the connection closes. One per connection;
 * {@link HttpPipelining} hands it one request at a time.
 */
public final class HttpRouter extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(HttpRouter.class);

    private final GatewayContext gw;
    private final HttpPipelining pipelining;
    private final ChatCompletions completions;

    HttpRouter(GatewayContext gw, HttpPipelining pipelining) {
        this.gw = gw;
        this.pipelining = pipelining;
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
        HttpResponses.sendError(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, ErrorCode.INVALID,
                "use " + wanted + " here", keepAlive, HttpHeaderNames.ALLOW.toString(), wanted.name());
        return false;
    }

    /** A streaming turn paused because the client stopped reading goes on once the channel is writable again. */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            completions.writable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Keeps a connection whose request is being answered from the idle timeout while the answer makes progress or
     * the backend is still computing it (a long non-streaming completion writes nothing for a while). One whose
     * answer waits for the client to read (the channel is not writable, the turn paused) is idle: the event goes
     * on to {@link WsSessionHandler}, which closes the connection, and the close cancels the turn.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent && pipelining.answering() && ctx.channel().isWritable()
                && !completions.waitingForClient()) {
            return; // busy, not idle
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        completions.closed();
        ctx.fireChannelInactive();
    }

    /**
     * A failure of a handler up to here (a route, the WebSocket protocol handler, the socket). A bug in a route
     * is logged and, while the request has no answer yet, answered with a generic 500 (the details stay in the
     * log); a broken socket or a malformed frame is the client's, logged at debug; a WebSocket message over the
     * size limit gets close status 1009 (message too big). The connection closes.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (WsSessionHandler.isWebSocket(ctx.channel()) && messageTooBig(cause)) {
            // A message over max-frame-bytes in total (across continuation frames) or once inflated: the frame
            // decoder answers one oversized frame with 1009, and these must say the same. A plain close would go
            // out as 1000 (normal closure), telling the client nothing went wrong.
            LOG.debug("closing WebSocket {} with 1009: {}", ctx.channel().remoteAddress(), cause.toString());
            gw.metrics().error(ErrorCode.TOO_LARGE);
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.MESSAGE_TOO_BIG,
                    "message over " + gw.settings().maxFrameBytes() + " bytes"))
                    .addListener(ChannelFutureListener.CLOSE);
        } else if (cause instanceof java.io.IOException || cause instanceof DecoderException) {
            LOG.debug("closing connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
        } else if (pipelining.awaitingAnswer() && ctx.channel().isActive()) {
            LOG.error("unexpected error serving {}; answering 500", ctx.channel().remoteAddress(), cause);
            gw.metrics().error(ErrorCode.INTERNAL);
            HttpResponses.sendError(ctx, ErrorCode.INTERNAL, "internal server error", false);
        } else {
            LOG.error("unexpected error on connection {}; closing it", ctx.channel().remoteAddress(), cause);
            ctx.close();
        }
    }

    /**
     * Whether {@code cause} is a WebSocket message over the size limit: the frame aggregator's
     * {@link TooLongFrameException}, or permessage-deflate's inflater stopping at its limit (Netty reports that as a
     * {@link DecompressionException} like corrupt data, told apart only by its message).
     */
    private static boolean messageTooBig(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TooLongFrameException || (t instanceof DecompressionException
                    && String.valueOf(t.getMessage()).contains("maximum size"))) {
                return true;
            }
        }
        return false;
    }
}
