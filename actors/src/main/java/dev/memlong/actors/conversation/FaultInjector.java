package dev.memlong.actors.conversation;

import dev.memlong.storage.ConversationKey;

/**
 * A test seam: called inside the conversation actor when a turn's reply is complete, before it is committed.
 * Throwing fails the conversation actor, which its supervisor restarts from storage.
 */
@FunctionalInterface
public interface FaultInjector {

    void beforeCommit(ConversationKey key, String userText);

    FaultInjector NONE = (key, text) -> { };
}
