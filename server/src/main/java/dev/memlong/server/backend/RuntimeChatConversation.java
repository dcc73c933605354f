package dev.memlong.server.backend;

import dev.memlong.actors.Conversation;
import dev.memlong.actors.Reply;
import dev.memlong.actors.StreamEvent;
import dev.memlong.actors.UserMessage;
import dev.memlong.gateway.backend.ChatChunk;
import dev.memlong.gateway.backend.ChatConversation;
import dev.memlong.gateway.backend.ChatEvent;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A {@link ChatConversation} over a runtime {@link Conversation}: every call is the runtime's, with the records
 * converted by {@link ChatMapping} and failures turned into {@link ChatException}s. Nothing here blocks.
 */
final class RuntimeChatConversation implements ChatConversation {

    private final Conversation conversation;
    private final BackendGauges gauges;

    RuntimeChatConversation(Conversation conversation, BackendGauges gauges) {
        this.conversation = conversation;
        this.gauges = gauges;
    }

    @Override
    public String tenant() {
        return conversation.key().tenant();
    }

    @Override
    public String conversationId() {
        return conversation.key().conversationId();
    }

    @Override
    public CompletionStage<ChatReply> send(String text, String systemPrompt, ChatParams params) {
        CompletableFuture<Reply> turn;
        try {
            turn = conversation.send(new UserMessage(text, systemPrompt), ChatMapping.generation(params));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(ChatMapping.error(e));
        }
        CompletableFuture<ChatReply> reply = new CompletableFuture<>();
        turn.whenComplete((r, e) -> {
            if (e != null) {
                reply.completeExceptionally(ChatMapping.error(e));
            } else {
                gauges.replied(conversation.key(), r);
                reply.complete(ChatMapping.reply(r));
            }
        });
        reply.whenComplete((r, e) -> {
            if (e instanceof CancellationException) {
                turn.cancel(false); // cancels the turn in the runtime
            }
        });
        return reply;
    }

    /** The runtime's stream, started when the subscriber subscribes; the subscription is the runtime's own. */
    @Override
    public Flow.Publisher<ChatEvent> stream(String text, String systemPrompt, ChatParams params) {
        return subscriber -> {
            Flow.Publisher<StreamEvent> source;
            try {
                source = conversation.stream(new UserMessage(text, systemPrompt), ChatMapping.generation(params));
            } catch (RuntimeException e) {
                failNow(subscriber, ChatMapping.error(e));
                return;
            }
            source.subscribe(new Subscriber(subscriber));
        };
    }

    @Override
    public CompletionStage<List<ChatTurn>> history() {
        return map(conversation::history, ChatMapping::history);
    }

    @Override
    public CompletionStage<List<ChatChunk>> memory() {
        return map(conversation::memory, ChatMapping::memory);
    }

    @Override
    public CompletionStage<Boolean> forget() {
        return map(conversation::forget, existed -> {
            gauges.forgotten(conversation.key());
            return existed;
        });
    }

    private static <T, R> CompletionStage<R> map(Supplier<CompletionStage<T>> call,
                                                 Function<T, R> convert) {
        CompletionStage<T> stage;
        try {
            stage = call.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(ChatMapping.error(e));
        }
        CompletableFuture<R> out = new CompletableFuture<>();
        stage.whenComplete((v, e) -> {
            if (e != null) {
                out.completeExceptionally(ChatMapping.error(e));
            } else {
                try {
                    out.complete(convert.apply(v));
                } catch (RuntimeException conversion) {
                    out.completeExceptionally(ChatMapping.error(conversion));
                }
            }
        });
        return out;
    }

    /** Maps each event of the runtime's stream; demand and cancellation go straight to the runtime. */
    private final class Subscriber implements Flow.Subscriber<StreamEvent> {
        private final Flow.Subscriber<? super ChatEvent> downstream;

        Subscriber(Flow.Subscriber<? super ChatEvent> downstream) {
            this.downstream = downstream;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            downstream.onSubscribe(subscription);
        }

        @Override
        public void onNext(StreamEvent event) {
            switch (event) {
                case StreamEvent.Delta d -> downstream.onNext(new ChatEvent.Delta(d.text()));
                case StreamEvent.Completed c -> {
                    gauges.replied(conversation.key(), c.reply());
                    downstream.onNext(new ChatEvent.Completed(ChatMapping.reply(c.reply())));
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            downstream.onError(ChatMapping.error(t));
        }

        @Override
        public void onComplete() {
            downstream.onComplete();
        }
    }

    /** Signals {@code error} to a subscriber of a stream that never started (bad parameters, a closed runtime). */
    private static void failNow(Flow.Subscriber<? super ChatEvent> subscriber, ChatException error) {
        subscriber.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) { }

            @Override
            public void cancel() { }
        });
        subscriber.onError(error);
    }
}
