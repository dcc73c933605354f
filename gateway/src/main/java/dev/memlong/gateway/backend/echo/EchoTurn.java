package dev.memlong.gateway.backend.echo;

import dev.memlong.gateway.backend.ChatEvent;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ErrorCode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One running echo turn: the subscription of its single subscriber. Every signal to the subscriber is sent from
 * the backend's one scheduler thread, one token per step, and only while there is demand.
 */
final class EchoTurn implements Flow.Subscription {

    private final EchoBackend backend;
    private final EchoConversation conversation;
    private final String text;
    private final String systemPrompt;
    private final ChatParams params;
    private final Flow.Subscriber<? super ChatEvent> subscriber;
    private final long startNanos = System.nanoTime();
    private final List<String> pieces = new ArrayList<>();
    private boolean truncated;
    private int next;
    private long demand;
    private boolean waiting;
    private boolean finished;
    private boolean admitted;
    private long firstTokenNanos;
    private ScheduledFuture<?> pending;

    EchoTurn(EchoBackend backend, EchoConversation conversation, String text, String systemPrompt, ChatParams params,
             Flow.Subscriber<? super ChatEvent> subscriber) {
        this.backend = backend;
        this.conversation = conversation;
        this.text = text;
        this.systemPrompt = systemPrompt;
        this.params = params;
        this.subscriber = subscriber;
    }

    /** Splits text into the echo's tokens: each word with its leading space. */
    static List<String> tokenize(String text) {
        List<String> out = new ArrayList<>();
        for (String w : text.strip().split("\\s+")) {
            if (!w.isEmpty()) {
                out.add(" " + w);
            }
        }
        return out;
    }

    void start() {
        backend.turnsStarted.incrementAndGet();
        subscriber.onSubscribe(this);
        synchronized (this) {
            if (finished) {
                return; // cancelled in onSubscribe
            }
        }
        ErrorCode injected = injectedError();
        if (injected != null) {
            failLater(new ChatException(injected, "injected " + injected.wireName()));
            return;
        }
        if (!backend.tryAdmit()) {
            failLater(new ChatException(ErrorCode.OVERLOADED, "the echo backend is full"));
            return;
        }
        synchronized (this) {
            admitted = true;
            if (finished) {
                release();
                return;
            }
        }
        pieces.add("echo:");
        List<String> words = tokenize(text);
        int room = params.maxNewTokens() - 1;
        truncated = words.size() > room;
        pieces.addAll(words.subList(0, Math.max(0, Math.min(room, words.size()))));
        schedule(backend.tokenDelay());
    }

    private ErrorCode injectedError() {
        if (text.startsWith("!overloaded")) {
            return ErrorCode.OVERLOADED;
        }
        if (text.startsWith("!fail")) {
            return ErrorCode.INTERNAL;
        }
        if (text.startsWith("!invalid") || text.isBlank()) {
            return ErrorCode.INVALID;
        }
        return null;
    }

    private void failLater(ChatException error) {
        backend.scheduler().execute(() -> {
            synchronized (this) {
                if (finished) {
                    return;
                }
                finished = true;
            }
            subscriber.onError(error);
        });
    }

    /** Gives the turn slot back, once. */
    private synchronized void release() {
        if (admitted) {
            admitted = false;
            backend.running.decrementAndGet();
        }
    }

    private synchronized void schedule(Duration delay) {
        if (finished) {
            return;
        }
        pending = delay.isZero()
                ? backend.scheduler().schedule(this::step, 0, TimeUnit.NANOSECONDS)
                : backend.scheduler().schedule(this::step, delay.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void step() {
        ChatEvent event;
        boolean last;
        synchronized (this) {
            if (finished) {
                return;
            }
            if (demand == 0) {
                waiting = true;
                return;
            }
            demand--;
            if (next < pieces.size()) {
                if (next == 0) {
                    firstTokenNanos = System.nanoTime();
                }
                event = new ChatEvent.Delta(pieces.get(next++));
                last = false;
            } else {
                finished = true;
                event = new ChatEvent.Completed(finish());
                last = true;
            }
        }
        backend.tokens.incrementAndGet();
        subscriber.onNext(event);
        if (last) {
            subscriber.onComplete();
        } else {
            schedule(next < pieces.size() ? backend.tokenDelay() : Duration.ZERO);
        }
    }

    private ChatReply finish() {
        release();
        String reply = String.join("", pieces);
        List<ChatReply.Retrieved> retrieved = conversation.retrieve(text);
        conversation.commit(systemPrompt, text, reply);
        long now = System.nanoTime();
        double seconds = (now - firstTokenNanos) / 1e9;
        double tokS = pieces.size() > 1 && seconds > 0 ? (pieces.size() - 1) / seconds : 0;
        return new ChatReply(reply, tokenize(text).size() + 4, pieces.size(),
                Duration.ofNanos(firstTokenNanos - startNanos), tokS, Duration.ofMillis(1), retrieved,
                truncated ? ChatReply.Finish.LENGTH : ChatReply.Finish.STOP, conversation.memoryTokens(),
                pieces.size() + tokenize(text).size());
    }

    @Override
    public void request(long n) {
        boolean resume;
        synchronized (this) {
            if (finished) {
                return;
            }
            if (n <= 0) {
                finished = true;
                release();
                backend.scheduler().execute(() -> subscriber.onError(
                        new IllegalArgumentException("request(" + n + "): demand must be positive (rule 3.9)")));
                return;
            }
            demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
            resume = waiting;
            waiting = false;
        }
        if (resume) {
            schedule(Duration.ZERO);
        }
    }

    @Override
    public void cancel() {
        synchronized (this) {
            if (finished) {
                return;
            }
            finished = true;
            if (pending != null) {
                pending.cancel(false);
            }
            release();
        }
    }
}
