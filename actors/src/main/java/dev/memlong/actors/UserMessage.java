package dev.memlong.actors;

import java.util.Objects;

/**
 * A user message, optionally with the system prompt the conversation should follow from this turn on.
 *
 * <p>The system prompt (the chat template's system role) belongs to the conversation, not to one turn: it is
 * stored in the conversation's log and stays in force for later turns until another one is set. Sending the same
 * system prompt again (as OpenAI clients do, resending it with every request) changes nothing and feeds nothing;
 * a different one is stored with the turn and fed, as a system message, right before the user message; no system
 * prompt (null or blank) keeps the current one. When a conversation's window has to be rebuilt from its dialogue,
 * the rebuilt window starts with the current system prompt.
 *
 * @param text         the user's message
 * @param systemPrompt the system prompt from this turn on, or null to keep the current one
 */
public record UserMessage(String text, String systemPrompt) {

    public UserMessage {
        Objects.requireNonNull(text, "text");
        if (systemPrompt != null && systemPrompt.isBlank()) {
            systemPrompt = null;
        }
    }

    /** A message that keeps the conversation's system prompt. */
    public static UserMessage of(String text) {
        return new UserMessage(text, null);
    }
}
