package dev.memlong.gateway.backend;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * One conversation of one tenant; the shape of {@code dev.memlong.actors.Conversation}. Turns sent through any
 * handle of the same conversation run one after another, in the order they arrive.
 *
 * <p>Failures complete stages (or end streams) with a {@link ChatException} whose {@link ErrorCode} says what
 * happened ({@code OVERLOADED} at once when the runtime is full, {@code CANCELLED}, {@code INVALID}, ...).
 */
public interface ChatConversation {

    /** The tenant the conversation belongs to. */
    String tenant();

    /** The conversation's id inside its tenant. */
    String conversationId();

    /**
     * Sends a user message; completes with the reply once the turn is committed. Cancelling the returned stage's
     * {@code CompletableFuture} cancels the turn.
     *
     * @param systemPrompt the conversation's system prompt from this turn on (the chat template's system role), or
     *                     null to keep the current one. It belongs to the conversation: the same one sent again
     *                     changes nothing, a different one is stored with the turn and shapes it and later turns.
     */
    CompletionStage<ChatReply> send(String text, String systemPrompt, ChatParams params);

    /** {@link #send(String, String, ChatParams)} keeping the conversation's system prompt. */
    default CompletionStage<ChatReply> send(String text, ChatParams params) {
        return send(text, null, params);
    }

    /**
     * The reply as a stream: {@link ChatEvent.Delta}s as tokens are generated, then exactly one
     * {@link ChatEvent.Completed}, then {@code onComplete}; or {@code onError} with a {@link ChatException}. The
     * turn starts when the single subscriber subscribes and honours its demand; cancelling the subscription
     * cancels the turn (that is how the gateway cancels a request id, and what a client going away does). The
     * system prompt is as for {@link #send(String, String, ChatParams)}.
     */
    Flow.Publisher<ChatEvent> stream(String text, String systemPrompt, ChatParams params);

    /** {@link #stream(String, String, ChatParams)} keeping the conversation's system prompt. */
    default Flow.Publisher<ChatEvent> stream(String text, ChatParams params) {
        return stream(text, null, params);
    }

    /** The stored dialogue, chronological (user and assistant messages). */
    CompletionStage<List<ChatTurn>> history();

    /** The memory chunks (text and counters), chronological. */
    CompletionStage<List<ChatChunk>> memory();

    /** Deletes the conversation's dialogue and memory; completes with whether anything was stored. */
    CompletionStage<Boolean> forget();
}
