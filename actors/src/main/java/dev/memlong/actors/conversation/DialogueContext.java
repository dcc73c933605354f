package dev.memlong.actors.conversation;

import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.storage.SavedWindow;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * What a conversation actor keeps between turns to render the next prompt: the latest messages (to rebuild a
 * window the device dropped), the system prompt, and the window saved at the last passivation (valid until a
 * committed turn makes it stale). Owned by one actor, touched only on its thread.
 */
final class DialogueContext {

    private final int keep;
    private final Deque<ChatMessage> recent = new ArrayDeque<>();
    private String systemPrompt;
    private SavedWindow saved;

    /** @param keep how many of the latest messages are kept */
    DialogueContext(int keep) {
        this.keep = keep;
    }

    /** Replaces everything with what storage holds. */
    void restore(List<ChatMessage> messages, String systemPrompt, SavedWindow saved) {
        recent.clear();
        messages.forEach(this::remember);
        this.systemPrompt = systemPrompt;
        this.saved = saved;
    }

    /** Forgets everything (the conversation was deleted). */
    void clear() {
        restore(List.of(), null, null);
    }

    List<ChatMessage> recentMessages() {
        return List.copyOf(recent);
    }

    String systemPrompt() {
        return systemPrompt;
    }

    /** The window saved at the last passivation, or null. */
    SavedWindow savedWindow() {
        return saved;
    }

    /**
     * The system prompt a turn sets: {@code requested} when it differs from the current one, else null (clients
     * resend the same prompt with every request, spacing may differ).
     */
    String changedSystemPrompt(String requested) {
        return requested != null && (systemPrompt == null || !requested.strip().equals(systemPrompt.strip()))
                ? requested : null;
    }

    /** A turn was committed: its messages join the recent ones, and a saved window is stale from now on. */
    void committed(String newSystemPrompt, String user, String assistant) {
        if (newSystemPrompt != null) {
            systemPrompt = newSystemPrompt;
        }
        remember(ChatMessage.user(user));
        remember(ChatMessage.assistant(assistant));
        saved = null;
    }

    private void remember(ChatMessage message) {
        recent.addLast(message);
        while (recent.size() > keep) {
            recent.removeFirst();
        }
    }
}
