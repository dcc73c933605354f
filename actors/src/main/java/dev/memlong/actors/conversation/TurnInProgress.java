package dev.memlong.actors.conversation;

/**
 * The turn in progress: submitted to the device, generating, then committing.
 *
 * @param userTokens      the user message's tokens (stored with it, and counted for the trainer)
 * @param newSystemPrompt the system prompt the turn sets (stored with it), or null
 */
record TurnInProgress(ConversationActor.Send send, int userTokens, String newSystemPrompt) {}
