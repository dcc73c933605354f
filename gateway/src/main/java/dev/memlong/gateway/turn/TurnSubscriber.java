package dev.memlong.gateway.turn;

import dev.memlong.gateway.backend.ChatEvent;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ErrorCode;
import io.netty.channel.Channel;

import java.util.concurrent.Flow;

/**
 * Subscribes to one turn's events and hands them to {@link #onDelta}, {@link #onDone} and {@link #onFailed} on the
 * channel's event loop, each turn ending exactly once. Demand is one event at a time, requested again only while
 * the channel is writable; {@link #resume()} (called on a writability change) requests the next event.
 * {@link #cancel()} cancels the backend turn and reports {@link ErrorCode#CANCELLED} through {@link #onFailed}.
 */
public abstract class TurnSubscriber implements Flow.Subscriber<ChatEvent> {

    protected final Channel channel;
    private final long startNanos = System.nanoTime();
    // all below: event-loop thread only
    private Flow.Subscription subscription;
    private boolean ended;
    private boolean paused;
    private boolean cancelRequested;
    private int deltas;

    protected TurnSubscriber(Channel channel) {
        this.channel = channel;
    }

    /** New reply text, the {@code index}-th delta of this turn (from 0). */
    protected abstract void onDelta(String text, int index);

    /** The reply is committed. */
    protected abstract void onDone(ChatReply reply, long elapsedNanos);

    /** The turn failed or was cancelled; also called (with {@code CANCELLED}) when the channel closed. */
    protected abstract void onFailed(ChatException error, int deltasSent);

    @Override
    public final void onSubscribe(Flow.Subscription s) {
        channel.eventLoop().execute(() -> {
            if (subscription != null) {
                s.cancel(); // rule 2.5: at most one subscription
                return;
            }
            subscription = s;
            if (ended || cancelRequested) {
                s.cancel();
            } else {
                s.request(1);
            }
        });
    }

    @Override
    public final void onNext(ChatEvent item) {
        channel.eventLoop().execute(() -> {
            if (ended) {
                return;
            }
            switch (item) {
                case ChatEvent.Delta d -> {
                    onDelta(d.text(), deltas++);
                    requestMore();
                }
                case ChatEvent.Completed c -> {
                    ended = true;
                    onDone(c.reply(), System.nanoTime() - startNanos);
                }
            }
        });
    }

    @Override
    public final void onError(Throwable t) {
        ChatException error = ChatException.of(t);
        channel.eventLoop().execute(() -> end(error));
    }

    @Override
    public final void onComplete() {
        channel.eventLoop().execute(() -> {
            if (!ended) { // a publisher that completed without a reply
                end(new ChatException(ErrorCode.INTERNAL, "the turn ended without a reply"));
            }
        });
    }

    /** Cancels the turn (client cancel, channel closed); reports CANCELLED unless it already ended. Event loop only. */
    public final void cancel() {
        if (ended) {
            return;
        }
        cancelRequested = true;
        if (subscription != null) {
            subscription.cancel();
        }
        end(new ChatException(ErrorCode.CANCELLED, "cancelled"));
    }

    /** Requests the next event if the channel became writable again. Event loop only. */
    public final void resume() {
        if (paused && !ended && channel.isWritable()) {
            paused = false;
            subscription.request(1);
        }
    }

    /**
     * Whether the turn is stalled on the client: it stopped asking the backend for more because the channel is
     * not writable (the client does not read), and waits for {@link #resume()}. Such a turn is not making progress,
     * so it does not keep its connection from the idle timeout. Event loop only.
     */
    public final boolean paused() {
        return paused && !ended;
    }

    /** The channel the turn writes to. */
    public final Channel channel() {
        return channel;
    }

    /** Whether the turn has ended. */
    public final boolean ended() {
        return ended;
    }

    private void requestMore() {
        if (ended) {
            return;
        }
        if (channel.isWritable()) {
            subscription.request(1);
        } else {
            paused = true;
        }
    }

    private void end(ChatException error) {
        if (ended) {
            return;
        }
        ended = true;
        onFailed(error, deltas);
    }
}
