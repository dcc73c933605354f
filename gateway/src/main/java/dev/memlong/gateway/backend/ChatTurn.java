package dev.memlong.gateway.backend;

import java.util.Objects;

/**
 * One stored message of a conversation's dialogue.
 *
 * @param seq  its position in the conversation's log
 * @param role who said it
 * @param text what was said
 */
public record ChatTurn(long seq, Role role, String text) {

    public ChatTurn {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(text, "text");
    }

    /** Who said a message. */
    public enum Role {
        USER, ASSISTANT;

        /** The OpenAI / wire name: {@code user} or {@code assistant}. */
        public String wireName() {
            return this == USER ? "user" : "assistant";
        }
    }
}
