package dev.memlong.storage;

import java.util.List;
import java.util.Objects;

/**
 * A fine-tuned version of a model, published by the trainer. Version 0 is the base model itself and is never
 * stored.
 *
 * @param modelId           the base model
 * @param version           increasing version number, from 1
 * @param parentVersion     the version the round started from (0: the base model)
 * @param artifact          where its weights are (the trainer's file of the layers above the memory layer)
 * @param createdAtMs       publication time, epoch ms
 * @param memoryLayer       layers 0..memoryLayer, the embeddings and lm_head are the base model's
 * @param trainingMode      which parameters trained ({@code lora} or {@code full-upper})
 * @param dataRange         the dialogue the round read, per conversation (training and held-out)
 * @param heldoutLossBefore held-out loss of the parent version
 * @param heldoutLossAfter  held-out loss of this version
 * @param tokensTrained     tokens of dialogue the round trained on
 * @param heldoutTokens     target tokens of the held-out loss
 * @param steps             optimizer steps of the round
 */
public record ModelVersion(String modelId, long version, long parentVersion, String artifact, long createdAtMs,
                           int memoryLayer, String trainingMode, List<TrainedRange> dataRange,
                           double heldoutLossBefore, double heldoutLossAfter, long tokensTrained, long heldoutTokens,
                           int steps) {

    public ModelVersion {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(artifact, "artifact");
        Objects.requireNonNull(trainingMode, "trainingMode");
        dataRange = List.copyOf(dataRange);
        if (version < 1) {
            throw new IllegalArgumentException("a stored version is >= 1 (0 is the base model), got " + version);
        }
        if (parentVersion < 0 || parentVersion >= version) {
            throw new IllegalArgumentException("parent version " + parentVersion + " of version " + version
                    + " must be in 0.." + (version - 1));
        }
    }
}
