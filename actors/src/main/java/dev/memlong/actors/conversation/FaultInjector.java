package dev.memlong.actors.conversation;

import dev.memlong.storage.ConversationKey;

/**
 * A test seam: called inside the conversation actor when a turn's reply is complete, before it is committed.
 * Throwing fails the conversation actor, which its supervisor restarts from storage.
 */
@FunctionalInterface
public interface FaultInjector {

    void beforeCommit(ConversationKey key, String userText);

    /** Called on the blocking pool right before a turn's commit is written (a slow disk, in tests). */
    default void beforeStore(ConversationKey key) {}

    FaultInjector NONE = (key, text) -> { };
}
