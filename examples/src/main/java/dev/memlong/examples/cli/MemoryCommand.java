package dev.memlong.examples.cli;

import dev.memlong.storage.ChunkSummary;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "memory", mixinStandardHelpOptions = true, description = "A conversation's long-term memory chunks, chronological: "
        + "{\"tenant\",\"conversation\",\"chunk_count\",\"token_count\",\"chunks\":[{\"seq\",\"tokens\","
        + "\"retrieval_count\",\"text\",\"created_at_ms\"}]} (retrieval counts as last written)")
final class MemoryCommand implements Callable<Integer> {

    @Mixin
    StoreOptions store;

    @Mixin
    ConversationOptions conversation;

    @Override
    public Integer call() {
        ConversationKey key = conversation.key();
        List<ChunkSummary> chunks;
        try (ConversationStore s = store.openExisting()) {
            store.requireConversation(s, key);
            chunks = s.chunks(key);
        }
        List<Map<String, Object>> rows = new ArrayList<>(chunks.size());
        long tokens = 0;
        for (ChunkSummary c : chunks) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("seq", c.seq());
            row.put("tokens", c.tokenCount());
            row.put("retrieval_count", c.retrievalCount());
            row.put("text", c.text());
            row.put("created_at_ms", c.createdAtMs());
            rows.add(row);
            tokens += c.tokenCount();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tenant", key.tenant());
        out.put("conversation", key.conversationId());
        out.put("chunk_count", chunks.size());
        out.put("token_count", tokens);
        out.put("chunks", rows);
        Json.print(out);
        return 0;
    }
}
