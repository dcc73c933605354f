package dev.memlong.gateway.server;

import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Stands for a request whose body went over the limit ({@link BodyLimitAggregator}): it takes that request's
 * place in the connection's queue, so its {@code 413} is answered in order, after the answers before it
 * ({@link HttpPipelining}), and the connection then closes (the rest of its body is never read). No body.
 */
final class OversizedRequest extends DefaultFullHttpRequest {

    private final int maxBytes;

    OversizedRequest(HttpRequest oversized, int maxBytes) {
        super(oversized.protocolVersion(), oversized.method(), oversized.uri());
        headers().set(oversized.headers());
        HttpUtil.setKeepAlive(this, false);
        this.maxBytes = maxBytes;
    }

    /** The body limit it went over. */
    int maxBytes() {
        return maxBytes;
    }
}
