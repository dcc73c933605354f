package dev.memlong.actors.trainer;

import dev.memlong.storage.ConversationKey;
import java.util.List;

/**
 * A test seam: called on the trainer's thread before each optimizer step of a round, with the conversations the
 * attempt trains on, and at the other points below. Throwing fails the round.
 */
@FunctionalInterface
public interface RoundObserver {

    /**
     * @param attempt  0, or how many times the round started over without excluded conversations
     * @param step     the optimizer step about to run (0-based)
     * @param training the conversations this attempt trains on
     */
    void beforeStep(int attempt, int step, List<ConversationKey> training);

    /** Called on the trainer's thread after a round's last exclusion check, right before it publishes {@code version}. */
    default void beforePublish(int attempt, long version) {}

    /** Called on the trainer actor when it asks the running round to stop (a rollback arrived). */
    default void cancelRequested() {}

    RoundObserver NONE = (attempt, step, training) -> { };
}
