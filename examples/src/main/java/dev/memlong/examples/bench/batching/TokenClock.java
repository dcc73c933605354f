package dev.memlong.examples.bench.batching;

import dev.memlong.actors.Conversation;
import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.StreamEvent;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * One streamed turn whose token arrival times (System.nanoTime, at the subscriber: what a caller sees) are kept.
 * {@link #cancel()} stops the turn; {@link #done()} completes when it ended (normally, cancelled or failed).
 */
final class TokenClock implements Flow.Subscriber<StreamEvent> {

    private final long[] times;
    private volatile int count;
    private volatile Flow.Subscription subscription;
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    private TokenClock(int maxTokens) {
        this.times = new long[maxTokens + 8];
    }

    static TokenClock start(Conversation conversation, String text, GenerationParams params) {
        TokenClock clock = new TokenClock(params.maxNewTokens());
        conversation.stream(text, params).subscribe(clock);
        return clock;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(StreamEvent event) {
        if (event instanceof StreamEvent.Delta d && d.tokenId() >= 0 && count < times.length) {
            times[count] = System.nanoTime();
            count = count + 1;
        }
    }

    @Override
    public void onError(Throwable t) {
        done.complete(null);
    }

    @Override
    public void onComplete() {
        done.complete(null);
    }

    void cancel() {
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        done.complete(null);
    }

    CompletableFuture<Void> done() {
        return done;
    }

    /** Arrival times of the tokens so far. */
    long[] times() {
        return java.util.Arrays.copyOf(times, count);
    }
}
