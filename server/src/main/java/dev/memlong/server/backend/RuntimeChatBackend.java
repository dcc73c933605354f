package dev.memlong.server.backend;

import dev.memlong.actors.MemLongRuntime;
import dev.memlong.gateway.backend.BackendStats;
import dev.memlong.gateway.backend.ChatBackend;
import dev.memlong.gateway.backend.ChatConversation;
import java.util.List;

/**
 * The gateway's {@link ChatBackend} over the embeddable runtime: each {@link ChatConversation} is a
 * {@link dev.memlong.actors.Conversation} of the same tenant and id, with records converted and runtime failures
 * mapped to gateway error codes by {@link ChatMapping}. The backend does not own the runtime: closing it only
 * stops its gauges.
 */
public final class RuntimeChatBackend implements ChatBackend, AutoCloseable {

    private final MemLongRuntime runtime;
    private final List<String> models;
    private final BackendGauges gauges;

    /**
     * @param runtime the runtime to serve (not closed by this backend)
     * @param modelId the model id {@code GET /v1/models} lists (conversations are stored under it)
     */
    public RuntimeChatBackend(MemLongRuntime runtime, String modelId) {
        this.runtime = runtime;
        this.models = List.of(modelId);
        this.gauges = new BackendGauges(runtime, runtime.memorySettings().chunkSize());
    }

    @Override
    public ChatConversation conversation(String tenant, String conversationId) {
        return new RuntimeChatConversation(runtime.conversation(tenant, conversationId), gauges);
    }

    @Override
    public List<String> models() {
        return models;
    }

    @Override
    public BackendStats stats() {
        return gauges.snapshot();
    }

    @Override
    public void close() {
        gauges.close();
    }
}
