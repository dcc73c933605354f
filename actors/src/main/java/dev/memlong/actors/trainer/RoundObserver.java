package dev.memlong.actors.trainer;

import dev.memlong.storage.ConversationKey;
import java.util.List;

/**
 * A test seam: called on the trainer's thread before each optimizer step of a round, with the conversations the
 * attempt trains on. Throwing fails the round.
 */
@FunctionalInterface
public interface RoundObserver {

    /**
     * @param attempt  0, or how many times the round started over without excluded conversations
     * @param step     the optimizer step about to run (0-based)
     * @param training the conversations this attempt trains on
     */
    void beforeStep(int attempt, int step, List<ConversationKey> training);

    RoundObserver NONE = (attempt, step, training) -> { };
}
