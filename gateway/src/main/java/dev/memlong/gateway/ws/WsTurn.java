package dev.memlong.gateway.ws;

import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.metrics.GatewayMetrics;
import dev.memlong.gateway.turn.TurnSubscriber;
import io.netty.channel.Channel;

import java.util.function.Consumer;

/** One user message in flight on a WebSocket: deltas, then done or an error, as frames. */
final class WsTurn extends TurnSubscriber {

    private final String requestId;
    private final Encoding encoding;
    private final Consumer<WsTurn> onEnd;
    private final GatewayMetrics metrics;

    WsTurn(Channel channel, String requestId, Encoding encoding, GatewayMetrics metrics, Consumer<WsTurn> onEnd) {
        super(channel);
        this.requestId = requestId;
        this.encoding = encoding;
        this.metrics = metrics;
        this.onEnd = onEnd;
    }

    String requestId() {
        return requestId;
    }

    @Override
    protected void onDelta(String text, int index) {
        channel.writeAndFlush(new ServerEvent.Outbound(new ServerEvent.Delta(requestId, text, index), encoding));
    }

    @Override
    protected void onDone(ChatReply reply, long elapsedNanos) {
        metrics.reply(reply);
        onEnd.accept(this);
        channel.writeAndFlush(new ServerEvent.Outbound(new ServerEvent.Done(requestId, reply, elapsedNanos), encoding));
    }

    @Override
    protected void onFailed(ChatException error, int deltasSent) {
        metrics.error(error.code()); // backend errors too (overloaded, unavailable, internal), and cancellations
        onEnd.accept(this);
        if (channel.isActive()) {
            channel.writeAndFlush(new ServerEvent.Outbound(
                    new ServerEvent.Failed(requestId, error.code(), error.getMessage()), encoding));
        }
    }
}
