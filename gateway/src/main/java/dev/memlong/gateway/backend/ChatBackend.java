package dev.memlong.gateway.backend;

import java.util.List;

/**
 * The runtime as the gateway sees it. Implementations are thread-safe and never block the caller: every call is
 * made on a Netty event loop, so anything slow is returned as a {@link java.util.concurrent.CompletionStage} or a
 * {@link java.util.concurrent.Flow.Publisher}.
 *
 * <p>Conversations live inside their tenant: {@code conversation("a", "x")} and {@code conversation("b", "x")}
 * are different conversations, and nothing reached through one may read or change the other. The gateway takes
 * the tenant from the caller's API key only.
 */
public interface ChatBackend {

    /**
     * A handle on a conversation, created on its first turn or resumed from storage; cheap, loads nothing.
     *
     * @param tenant         the tenant the caller's API key is bound to
     * @param conversationId the conversation's id inside that tenant (non-blank, at most 128 characters)
     */
    ChatConversation conversation(String tenant, String conversationId);

    /**
     * The model ids the backend serves ({@code GET /v1/models}): a chat completion must name one of them (any
     * other is answered 404 {@code model_not_found}).
     */
    List<String> models();

    /**
     * A snapshot of the runtime's gauges for {@code /metrics}. Called on every scrape from a Netty event loop:
     * must be cheap and non-blocking (read counters, never storage).
     */
    BackendStats stats();
}
