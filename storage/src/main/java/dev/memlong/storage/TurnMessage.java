package dev.memlong.storage;

import java.util.Objects;

/**
 * A message about to be stored.
 *
 * @param role       who wrote it
 * @param text       its text
 * @param tokenCount its length in tokens (for accounting; 0 if unknown)
 */
public record TurnMessage(Role role, String text, int tokenCount) {

    public TurnMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(text, "text");
    }
}
