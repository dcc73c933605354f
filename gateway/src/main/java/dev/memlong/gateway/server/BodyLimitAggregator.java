package dev.memlong.gateway.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;

/**
 * {@link HttpObjectAggregator} whose answer to a body over the limit is an OpenAI-style {@code 413} error in JSON
 * (Netty's own is an empty body), answered in order: the request goes on as an {@link OversizedRequest}, which
 * {@link HttpPipelining} answers once the answers before it are written (a pipelined one must not cut into the
 * stream of an earlier request); the connection then closes, since the rest of the body is never read.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {

    private final Runnable onOversized;

    BodyLimitAggregator(int maxBodyBytes, Runnable onOversized) {
        super(maxBodyBytes);
        this.onOversized = onOversized;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        onOversized.run();
        if (oversized instanceof HttpRequest request) {
            ctx.fireChannelRead(new OversizedRequest(request, maxContentLength()));
        } else {
            ctx.close();
        }
    }
}
