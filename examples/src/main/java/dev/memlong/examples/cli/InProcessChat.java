package dev.memlong.examples.cli;

import com.typesafe.config.Config;
import dev.memlong.actors.Conversation;
import dev.memlong.actors.MemLongRuntime;
import dev.memlong.actors.StreamEvent;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.server.backend.ChatMapping;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.Consumer;

/** {@code memlong chat --model DIR --data DIR}: a conversation of an embedded {@link MemLongRuntime}. */
final class InProcessChat implements ChatSession {

    private final MemLongRuntime runtime;
    private final Conversation conversation;

    InProcessChat(Config config, String tenant, String conversationId) {
        this.runtime = MemLongRuntime.start(config);
        this.conversation = runtime.conversation(tenant, conversationId);
    }

    @Override
    public CompletableFuture<ChatReply> turn(String text, ChatParams params, Consumer<String> onDelta) {
        CompletableFuture<ChatReply> done = new CompletableFuture<>();
        conversation.stream(text, ChatMapping.generation(params)).subscribe(new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(StreamEvent event) {
                switch (event) {
                    case StreamEvent.Delta d -> onDelta.accept(d.text());
                    case StreamEvent.Completed c -> done.complete(ChatMapping.reply(c.reply()));
                }
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(ChatMapping.error(t));
            }

            @Override
            public void onComplete() { }
        });
        return done;
    }

    @Override
    public void close() {
        runtime.close();
    }
}
