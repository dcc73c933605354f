package dev.memlong.storage;

import java.util.Objects;

/**
 * A fine-tuned version of a model, published by the trainer.
 *
 * @param modelId           the base model
 * @param version           increasing version number
 * @param artifact          where its weights (e.g. a LoRA adapter) are
 * @param createdAtMs       publication time, epoch ms
 * @param heldoutLossBefore held-out loss before the round
 * @param heldoutLossAfter  held-out loss after the round
 * @param tokensTrained     tokens of dialogue the round trained on
 */
public record ModelVersion(String modelId, long version, String artifact, long createdAtMs,
                           double heldoutLossBefore, double heldoutLossAfter, long tokensTrained) {

    public ModelVersion {
        Objects.requireNonNull(modelId, "modelId");
        Objects.requireNonNull(artifact, "artifact");
        if (version < 0) {
            throw new IllegalArgumentException("version must be >= 0");
        }
    }
}
