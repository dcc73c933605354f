package dev.memlong.actors;

import dev.memlong.actors.conversation.ConversationActor;
import dev.memlong.actors.conversation.TurnEvent;
import dev.memlong.storage.ChunkSummary;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.Turn;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * A handle on one conversation of a {@link MemLongRuntime}: cheap, thread-safe, and valid as long as the runtime
 * runs. Turns sent through any handle of the same conversation run one after another, in the order they arrive.
 */
public final class Conversation {

    private final MemLongRuntime runtime;
    private final ConversationKey key;

    Conversation(MemLongRuntime runtime, ConversationKey key) {
        this.runtime = runtime;
        this.key = key;
    }

    public ConversationKey key() {
        return key;
    }

    /**
     * Sends a user message; completes with the reply once the turn is durably committed, or exceptionally with a
     * {@link MemLongException} ({@code overloaded}, {@code cancelled}, ...). Cancelling the returned future
     * cancels the turn.
     */
    public CompletableFuture<Reply> send(String text, GenerationParams params) {
        return send(UserMessage.of(text), params);
    }

    /** {@link #send(String, GenerationParams)} with a system prompt (see {@link UserMessage}). */
    public CompletableFuture<Reply> send(UserMessage message, GenerationParams params) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        long turnId = runtime.nextTurnId();
        reply.whenComplete((r, e) -> {
            if (e instanceof CancellationException) {
                runtime.deliver(key, new ConversationActor.CancelTurn(turnId));
            }
        });
        startTurn(turnId, message, params, event -> {
            switch (event) {
                case TurnEvent.Done done -> reply.complete(done.reply());
                case TurnEvent.Error error -> reply.completeExceptionally(error.error());
                case TurnEvent.Delta delta -> { }
            }
        });
        return reply;
    }

    /**
     * The reply as a stream: {@link StreamEvent.Delta}s as tokens are generated, then one
     * {@link StreamEvent.Completed} after the commit. The turn starts when the (single) subscriber subscribes;
     * cancelling the subscription cancels it.
     */
    public Flow.Publisher<StreamEvent> stream(String text, GenerationParams params) {
        return stream(UserMessage.of(text), params);
    }

    /** {@link #stream(String, GenerationParams)} with a system prompt (see {@link UserMessage}). */
    public Flow.Publisher<StreamEvent> stream(UserMessage message, GenerationParams params) {
        long turnId = runtime.nextTurnId();
        TokenPublisher[] publisher = new TokenPublisher[1];
        publisher[0] = new TokenPublisher(
                () -> startTurn(turnId, message, params, event -> {
                    switch (event) {
                        case TurnEvent.Delta delta -> publisher[0].delta(delta.text(), delta.tokenId());
                        case TurnEvent.Done done -> publisher[0].complete(done.reply());
                        case TurnEvent.Error error -> publisher[0].fail(error.error());
                    }
                }),
                () -> runtime.deliver(key, new ConversationActor.CancelTurn(turnId)));
        return publisher[0];
    }

    private void startTurn(long turnId, UserMessage message, GenerationParams params, Consumer<TurnEvent> handler) {
        ActorRef<TurnEvent> sink = runtime.turnSink(turnId, handler);
        runtime.deliver(key, new ConversationActor.Send(turnId, message.text(), message.systemPrompt(), params, sink));
    }

    /** The whole stored dialogue, chronological. */
    public CompletionStage<List<Turn>> history() {
        return runtime.ask(key, ConversationActor.GetHistory::new);
    }

    /** The memory chunks (text and counters, no K/V), chronological. */
    public CompletionStage<List<ChunkSummary>> memory() {
        return runtime.ask(key, ConversationActor.GetMemory::new);
    }

    /** Deletes the conversation's dialogue, memory and window; completes with whether it existed. */
    public CompletionStage<Boolean> forget() {
        return runtime.ask(key, ConversationActor.Forget::new);
    }

    /**
     * Marks the conversation as opted out of training (or back in): an opted-out conversation is never used by a
     * training round, and a round in progress that uses it starts over without it. Stored durably; completes with
     * the flag.
     */
    public CompletionStage<Boolean> optOutOfTraining(boolean optOut) {
        return runtime.ask(key, replyTo -> new ConversationActor.SetTrainingOptOut(optOut, replyTo));
    }

    interface Request<T> extends Function<ActorRef<StatusReply<T>>, ConversationActor.Command> {}
}
