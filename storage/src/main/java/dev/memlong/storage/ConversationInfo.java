package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvLayout;

/**
 * A conversation's metadata as stored.
 *
 * @param key            tenant and id
 * @param modelId        the model it was created for
 * @param layout         its memory-layer K/V layout
 * @param capacityTokens its memory capacity
 * @param eviction       its eviction policy
 * @param turnCount      messages stored
 * @param chunkCount     memory chunks stored
 * @param tokenCount     memory tokens stored
 * @param createdAtMs    creation time, epoch ms
 * @param updatedAtMs    last write, epoch ms
 * @param trainingOptOut whether the trainer must skip this conversation
 * @param trainedToSeq   the trainer's cursor: messages before this sequence number were read by a training round
 * @param incarnation    which incarnation of the key this is: random, another after a forget and re-create (0 for a
 *                       conversation created before incarnations were stored); see {@link TrainedRange#of}
 */
public record ConversationInfo(ConversationKey key, String modelId, KvLayout layout, long capacityTokens,
                               EvictionPolicy eviction, long turnCount, long chunkCount, long tokenCount,
                               long createdAtMs, long updatedAtMs, boolean trainingOptOut, long trainedToSeq,
                               long incarnation) {}
