package dev.memlong.examples.cli;

import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "forget", mixinStandardHelpOptions = true, description = "Deletes every record of a conversation (dialogue, memory, K/V, embeddings) "
        + "atomically, for privacy requests: {\"tenant\",\"conversation\",\"forgotten\":true}")
final class ForgetCommand implements Callable<Integer> {

    @Mixin
    StoreOptions store;

    @Mixin
    ConversationOptions conversation;

    @Override
    public Integer call() {
        ConversationKey key = conversation.key();
        try (ConversationStore s = store.openExisting()) {
            store.requireConversation(s, key); // a mistyped id is reported, not silently "forgotten"
            s.forget(key);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tenant", key.tenant());
        out.put("conversation", key.conversationId());
        out.put("forgotten", true);
        Json.print(out);
        return 0;
    }
}
