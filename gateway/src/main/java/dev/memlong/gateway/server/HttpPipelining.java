package dev.memlong.gateway.server;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Serves a connection's HTTP requests one at a time, as HTTP/1.1 requires answers in request order. A request
 * that arrives (pipelined) while an earlier one is being answered waits here, retained, and goes on once the
 * earlier answer's last part has been written; waiting requests are released when the connection closes.
 * Reading stays on, so a client that goes away is noticed (and its turn cancelled) at once; only while
 * {@code maxWaiting} requests wait does the connection stop reading, so a client cannot pile up bodies in memory.
 * Everything after this handler (authentication, routes, the WebSocket upgrade) sees one request at a time.
 *
 * <p>It also keeps an idle connection open while a request is being answered: a long non-streaming completion
 * writes nothing for a while, and is not idle. One per connection; event loop only.
 */
final class HttpPipelining extends ChannelDuplexHandler {

    private final int maxWaiting;
    private final Deque<FullHttpRequest> waiting = new ArrayDeque<>();
    private boolean answering; // a request went on and the last part of its answer has not been written yet
    private boolean answerStarted; // some of that answer has been written
    private boolean lastRequest; // the request being answered asked to close the connection afterwards

    HttpPipelining(int maxWaiting) {
        this.maxWaiting = maxWaiting;
    }

    /** Whether a request went on and its answer has not started: an error can still be answered in HTTP. */
    boolean awaitingAnswer() {
        return answering && !answerStarted;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ctx.fireChannelRead(msg); // WebSocket frames after the upgrade
            return;
        }
        if (answering || !waiting.isEmpty()) {
            waiting.add(request);
            if (waiting.size() >= maxWaiting) {
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        dispatch(ctx, request);
    }

    private void dispatch(ChannelHandlerContext ctx, FullHttpRequest request) {
        answering = true;
        answerStarted = false;
        lastRequest = !HttpUtil.isKeepAlive(request);
        ctx.fireChannelRead(request);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse || msg instanceof LastHttpContent) {
            answerStarted = true;
        }
        if (msg instanceof HttpResponse r && r.status().equals(HttpResponseStatus.SWITCHING_PROTOCOLS)) {
            lastRequest = true; // a WebSocket now: no HTTP request after the upgrade is served
        }
        boolean last = msg instanceof LastHttpContent; // a FullHttpResponse is one too
        ctx.write(msg, promise);
        if (last && answering) {
            answering = false;
            // not from inside the writer's call stack: the writer still has its own bookkeeping to finish
            ctx.executor().execute(() -> next(ctx));
        }
    }

    private void next(ChannelHandlerContext ctx) {
        if (answering || waiting.isEmpty() || !ctx.channel().isActive()) {
            return;
        }
        if (lastRequest) { // the client said this connection ends with the previous answer
            releaseWaiting();
            return;
        }
        dispatch(ctx, waiting.poll());
        if (waiting.size() < maxWaiting && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && answering) {
            return; // a request in flight: the connection is not idle
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseWaiting();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseWaiting();
    }

    private void releaseWaiting() {
        FullHttpRequest r;
        while ((r = waiting.poll()) != null) {
            r.release();
        }
    }
}
