package dev.memlong.storage;

import java.util.Objects;

/**
 * Messages {@code [fromSeq, toSeq)} of one conversation that a training round read.
 *
 * @param key                    the conversation
 * @param fromSeq                first message
 * @param toSeq                  one past the last message
 * @param conversationCreatedAtMs which incarnation of the conversation (a forgotten and re-created conversation has
 *                               another creation time)
 * @param heldout                whether the round held it out (loss measured, never trained on)
 */
public record TrainedRange(ConversationKey key, long fromSeq, long toSeq, long conversationCreatedAtMs,
                           boolean heldout) {

    public TrainedRange {
        Objects.requireNonNull(key, "key");
        if (fromSeq < 0 || toSeq < fromSeq) {
            throw new IllegalArgumentException("invalid message range [" + fromSeq + ", " + toSeq + ") of " + key);
        }
    }
}
