package dev.memlong.actors.conversation;

import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.storage.ConversationInfo;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.Role;
import dev.memlong.storage.SavedWindow;
import dev.memlong.storage.Turn;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a conversation actor starts from, read from storage: its memory bank (activated), its latest messages (to
 * rebuild a window), its system prompt, and the window saved at its last passivation.
 *
 * @param systemPrompt the stored system prompt, or null
 * @param saved        the window saved at the last passivation for this model, or null
 */
record StoredConversation(StagingBank bank, List<ChatMessage> recent, String systemPrompt, SavedWindow saved) {

    /** Opens the conversation (creating it if new) and reads it. Runs on the blocking dispatcher. */
    static StoredConversation read(ConversationKey key, ConversationServices services) {
        ConversationInfo info = services.store().openConversation(key, services.spec());
        StagingBank staging = new StagingBank(services.store().activate(key));
        int keep = services.recentMessages();
        List<ChatMessage> messages = new ArrayList<>();
        for (Turn t : services.store().history(key, Math.max(0, info.turnCount() - keep), keep)) {
            if (t.role() != Role.SYSTEM) { // the system prompt is kept apart: a rebuilt window starts with it
                messages.add(new ChatMessage(t.role().name().toLowerCase(Locale.ROOT), t.text()));
            }
        }
        return new StoredConversation(staging, messages, services.store().systemPrompt(key).orElse(null),
                services.store().savedWindow(key, services.modelTag()).orElse(null));
    }
}
