package dev.memlong.gateway.server;

import dev.memlong.gateway.backend.ErrorCode;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;

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
 * <p>An answer that closes the connection ({@code Connection: close}: the client asked for it, or an error such as
 * 400, 403, 413, 421, 500 or 503 while draining) is the last one: requests waiting behind it are dropped, not
 * served, so none starts a turn that the close would cut off. A request whose body went over the limit arrives
 * as an {@link OversizedRequest} and is answered here, in its turn, with {@code 413}. Whether a connection being
 * answered counts as idle is {@link HttpRouter}'s to say. One per connection; event loop only.
 */
final class HttpPipelining extends ChannelDuplexHandler {

    private final int maxWaiting;
    private final Deque<FullHttpRequest> waiting = new ArrayDeque<>();
    private boolean answering; // a request went on and the last part of its answer has not been written yet
    private boolean answerStarted; // some of that answer has been written
    private boolean lastRequest; // the connection closes after the answer being written
    private boolean finished; // the last answer was written: no request after it is served

    HttpPipelining(int maxWaiting) {
        this.maxWaiting = maxWaiting;
    }

    /** Whether a request went on and the last part of its answer has not been written yet. */
    boolean answering() {
        return answering;
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
        if (finished) { // after the last answer: the connection is closing
            request.release();
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
        if (request instanceof OversizedRequest oversized) {
            // answered here, after the answers before it; this write does not pass through write() below
            int maxBytes = oversized.maxBytes();
            oversized.release();
            lastRequest = true;
            HttpResponses.sendError(ctx, ErrorCode.TOO_LARGE, "the request body is over the limit of " + maxBytes
                    + " bytes", false);
            answered(ctx);
            return;
        }
        ctx.fireChannelRead(request);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse || msg instanceof LastHttpContent) {
            answerStarted = true;
        }
        if (msg instanceof HttpResponse r && (r.status().equals(HttpResponseStatus.SWITCHING_PROTOCOLS)
                || !HttpUtil.isKeepAlive(r))) {
            // a WebSocket now (no HTTP request after the upgrade is served), or an answer that closes the connection
            lastRequest = true;
        }
        boolean last = msg instanceof LastHttpContent; // a FullHttpResponse is one too
        ctx.write(msg, promise);
        if (last && answering) {
            answered(ctx);
        }
    }

    /** The last part of the current answer was written. */
    private void answered(ChannelHandlerContext ctx) {
        answering = false;
        if (lastRequest) { // the connection ends with this answer: nothing waiting is served
            finished = true;
            releaseWaiting();
            return;
        }
        // not from inside the writer's call stack: the writer still has its own bookkeeping to finish
        ctx.executor().execute(() -> next(ctx));
    }

    private void next(ChannelHandlerContext ctx) {
        if (answering || finished || waiting.isEmpty() || !ctx.channel().isActive()) {
            return;
        }
        dispatch(ctx, waiting.poll());
        if (waiting.size() < maxWaiting && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
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
