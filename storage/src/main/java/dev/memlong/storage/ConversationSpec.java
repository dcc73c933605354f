package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvLayout;

import java.util.Objects;

/**
 * What a conversation is created with. Model id and layout are checked again every time it is opened: a bank
 * written for one memory-layer shape can never be read by another.
 *
 * @param modelId        the base model whose memory layer wrote the K/V
 * @param layout         the memory layer's K/V layout and the retriever's embedding size
 * @param capacityTokens memory capacity in tokens, or 0 for the store's default
 * @param eviction       eviction policy, or null for the store's default
 */
public record ConversationSpec(String modelId, KvLayout layout, long capacityTokens, EvictionPolicy eviction) {

    public ConversationSpec {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(layout, "layout");
        if (capacityTokens < 0) {
            throw new IllegalArgumentException("capacityTokens must be >= 0");
        }
    }

    /** A spec with the store's default capacity and eviction policy. */
    public static ConversationSpec of(String modelId, KvLayout layout) {
        return new ConversationSpec(modelId, layout, 0, null);
    }
}
