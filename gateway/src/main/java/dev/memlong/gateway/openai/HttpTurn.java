package dev.memlong.gateway.openai;

import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.metrics.GatewayMetrics;
import dev.memlong.gateway.server.HttpResponses;
import dev.memlong.gateway.turn.TurnSubscriber;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * One chat completion in flight: as server-sent events ({@code stream: true}; the response head goes out with
 * the first delta, so an error before it is a plain HTTP error with its status) or as one JSON body.
 */
final class HttpTurn extends TurnSubscriber {

    private final ChannelHandlerContext ctx;
    private final CompletionRequest request;
    private final String id;
    private final String model;
    private final long created;
    private final boolean keepAlive;
    private final GatewayMetrics metrics;
    private final Consumer<HttpTurn> onEnd;
    private boolean headSent;

    HttpTurn(ChannelHandlerContext ctx, CompletionRequest request, String id, String model, boolean keepAlive,
             GatewayMetrics metrics, Consumer<HttpTurn> onEnd) {
        super(ctx.channel());
        this.ctx = ctx;
        this.request = request;
        this.id = id;
        this.model = model;
        this.created = System.currentTimeMillis() / 1000;
        this.keepAlive = keepAlive;
        this.metrics = metrics;
        this.onEnd = onEnd;
    }

    @Override
    protected void onDelta(String text, int index) {
        if (!request.stream()) {
            return;
        }
        boolean first = !headSent;
        sendHead();
        event(OpenAiJson.deltaChunk(id, created, model, text, first));
    }

    @Override
    protected void onDone(ChatReply reply, long elapsedNanos) {
        metrics.reply(reply); // before the answer goes out, so a client that reads /metrics next sees it
        if (!request.stream()) {
            HttpResponses.send(ctx, HttpResponseStatus.OK, OpenAiJson.completion(id, created, model, reply), keepAlive);
        } else {
            sendHead();
            event(OpenAiJson.finishChunk(id, created, model, reply));
            if (request.includeUsage()) {
                event(OpenAiJson.usageChunk(id, created, model, reply));
            }
            end("data: [DONE]\n\n");
        }
        onEnd.accept(this);
    }

    @Override
    protected void onFailed(ChatException error, int deltasSent) {
        metrics.error(error.code()); // backend errors too (overloaded, unavailable, internal), and cancellations
        if (channel.isActive()) {
            if (!headSent) {
                HttpResponses.sendError(ctx, error.code(), error.getMessage(), keepAlive);
            } else { // mid-stream: an error event, then the end of the stream
                event(HttpResponses.errorBody(error.code(), error.getMessage()));
                end("data: [DONE]\n\n");
            }
        }
        onEnd.accept(this);
    }

    private void sendHead() {
        if (headSent) {
            return;
        }
        headSent = true;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        head.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        HttpUtil.setTransferEncodingChunked(head, true);
        HttpUtil.setKeepAlive(head, keepAlive);
        ctx.write(head);
    }

    private void event(Object json) {
        try {
            ctx.writeAndFlush(new DefaultHttpContent(buf("data: " + HttpResponses.JSON.writeValueAsString(json)
                    + "\n\n")));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    private void end(String last) {
        var future = ctx.writeAndFlush(new DefaultLastHttpContent(buf(last)));
        if (!keepAlive) {
            future.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }
}
