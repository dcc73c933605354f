package dev.memlong.examples.cli;

import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.Turn;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "history", mixinStandardHelpOptions = true, description = "A conversation's messages, chronological. With --json: "
        + "{\"tenant\",\"conversation\",\"turns\":[{\"seq\",\"role\",\"text\",\"tokens\",\"time_ms\"}]}; "
        + "otherwise one \"seq role: text\" line each")
final class HistoryCommand implements Callable<Integer> {

    @Mixin
    StoreOptions store;

    @Mixin
    ConversationOptions conversation;

    @Option(names = "--json", description = "print JSON")
    boolean json;

    @Override
    public Integer call() {
        ConversationKey key = conversation.key();
        List<Turn> turns;
        try (ConversationStore s = store.openExisting()) {
            store.requireConversation(s, key);
            turns = s.history(key);
        }
        if (!json) {
            turns.forEach(t -> System.out.println(t.seq() + " " + role(t) + ": " + t.text().replace("\n", "\\n")));
            return 0;
        }
        List<Map<String, Object>> rows = new ArrayList<>(turns.size());
        for (Turn t : turns) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("seq", t.seq());
            row.put("role", role(t));
            row.put("text", t.text());
            row.put("tokens", t.tokenCount());
            row.put("time_ms", t.timeMs());
            rows.add(row);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tenant", key.tenant());
        out.put("conversation", key.conversationId());
        out.put("turns", rows);
        Json.print(out);
        return 0;
    }

    private static String role(Turn t) {
        return t.role().name().toLowerCase(Locale.ROOT);
    }
}
