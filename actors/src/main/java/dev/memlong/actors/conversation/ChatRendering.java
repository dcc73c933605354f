package dev.memlong.actors.conversation;

import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import java.util.List;
import java.util.Optional;

/**
 * Dialogue as the model reads it: rendered with its chat template, or, for a model without one, as
 * {@code role: text} lines. Turns are fed this way, and the trainer trains on the same text.
 */
public final class ChatRendering {

    private ChatRendering() {}

    /** {@code messages} rendered; with {@code generationPrompt}, followed by the opening of the assistant's turn. */
    public static String render(Optional<ChatTemplate> template, List<ChatMessage> messages, boolean generationPrompt) {
        if (template.isPresent()) {
            return template.get().render(messages, generationPrompt);
        }
        StringBuilder s = new StringBuilder();
        for (ChatMessage m : messages) {
            s.append(m.role()).append(": ").append(m.content()).append('\n');
        }
        if (generationPrompt) {
            s.append("assistant:");
        }
        return s.toString();
    }
}
