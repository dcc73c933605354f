package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemorySettings;

import java.util.Objects;

/**
 * What a conversation is created with. Model id and layout are checked again every time it is opened: a bank
 * written for one memory-layer shape can never be read by another. Capacity and eviction apply only when the
 * conversation is created: an existing conversation keeps the ones stored with it.
 *
 * @param modelId        the base model whose memory layer wrote the K/V
 * @param layout         the memory layer's K/V layout and the retriever's embedding size
 * @param capacityTokens memory capacity in tokens, positive
 * @param eviction       eviction policy
 */
public record ConversationSpec(String modelId, KvLayout layout, long capacityTokens, EvictionPolicy eviction) {

    public ConversationSpec {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(eviction, "eviction");
        if (capacityTokens <= 0) {
            throw new IllegalArgumentException("capacityTokens must be positive, got " + capacityTokens);
        }
    }

    /**
     * A spec with the capacity and eviction policy of {@code memory} ({@code memlong.memory.capacity-tokens} and
     * {@code memlong.memory.eviction}, validated there against the chunk size): what the runtime creates
     * conversations with, so persisted banks honour the same settings as in-memory ones.
     */
    public static ConversationSpec of(String modelId, KvLayout layout, MemorySettings memory) {
        return new ConversationSpec(modelId, layout, memory.capacityTokens(), memory.eviction());
    }

    /**
     * A spec with the reference defaults of {@code memlong.memory} ({@value MemorySettings#DEFAULT_CAPACITY_TOKENS}
     * tokens, frequency eviction), for tools and tests that have no memory settings; the runtime uses
     * {@link #of(String, KvLayout, MemorySettings)}.
     */
    public static ConversationSpec of(String modelId, KvLayout layout) {
        return new ConversationSpec(modelId, layout, MemorySettings.DEFAULT_CAPACITY_TOKENS,
                EvictionPolicy.FREQUENCY);
    }
}
