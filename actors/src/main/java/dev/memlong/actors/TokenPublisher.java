package dev.memlong.actors;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Flow;

/**
 * The publisher behind {@link Conversation#stream}: one subscriber, events buffered until requested (a reply is
 * bounded by its max tokens), the turn started on subscription and cancelled with the subscription.
 */
final class TokenPublisher implements Flow.Publisher<StreamEvent> {

    private final Runnable start;
    private final Runnable cancelTurn;
    private final Queue<StreamEvent> buffer = new ArrayDeque<>();
    private Flow.Subscriber<? super StreamEvent> subscriber;
    private long demand;
    private boolean completed;
    private Throwable error;
    private boolean terminated;
    private boolean cancelled;
    private boolean emitting;

    TokenPublisher(Runnable start, Runnable cancelTurn) {
        this.start = start;
        this.cancelTurn = cancelTurn;
    }

    @Override
    public void subscribe(Flow.Subscriber<? super StreamEvent> s) {
        synchronized (this) {
            if (subscriber != null) {
                s.onSubscribe(new Flow.Subscription() {
                    @Override
                    public void request(long n) { }

                    @Override
                    public void cancel() { }
                });
                s.onError(new IllegalStateException("a reply stream has one subscriber"));
                return;
            }
            subscriber = s;
        }
        s.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                if (n <= 0) {
                    fail(new IllegalArgumentException("request(" + n + "): demand must be positive (rule 3.9)"));
                    return;
                }
                synchronized (TokenPublisher.this) {
                    demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
                }
                drain();
            }

            @Override
            public void cancel() {
                boolean first;
                synchronized (TokenPublisher.this) {
                    first = !cancelled && !terminated;
                    cancelled = true;
                    buffer.clear();
                }
                if (first) {
                    cancelTurn.run();
                }
            }
        });
        start.run();
    }

    void delta(String text, int tokenId) {
        enqueue(new StreamEvent.Delta(text, tokenId), false);
    }

    void complete(Reply reply) {
        enqueue(new StreamEvent.Completed(reply), true);
    }

    void fail(Throwable t) {
        synchronized (this) {
            if (error == null && !completed) {
                error = t;
                buffer.clear();
            }
        }
        drain();
    }

    private void enqueue(StreamEvent event, boolean last) {
        synchronized (this) {
            if (cancelled || completed || error != null) {
                return;
            }
            buffer.add(event);
            completed = last;
        }
        drain();
    }

    private void drain() {
        synchronized (this) {
            if (emitting || subscriber == null) {
                return;
            }
            emitting = true;
        }
        while (true) {
            StreamEvent next = null;
            boolean signalComplete = false;
            Throwable signalError = null;
            synchronized (this) {
                if (cancelled || terminated) {
                    emitting = false;
                    return;
                }
                if (error != null) {
                    terminated = true;
                    signalError = error;
                } else if (demand > 0 && !buffer.isEmpty()) {
                    next = buffer.poll();
                    demand--;
                } else if (buffer.isEmpty() && completed) {
                    terminated = true;
                    signalComplete = true;
                } else {
                    emitting = false;
                    return;
                }
            }
            if (signalError != null) {
                subscriber.onError(signalError);
            } else if (signalComplete) {
                subscriber.onComplete();
            } else {
                subscriber.onNext(next);
            }
        }
    }
}
