package dev.memlong.examples.cli;

import dev.memlong.storage.ConversationInfo;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "import", mixinStandardHelpOptions = true, description = "Imports a file written by memlong export (creating DIR/rocksdb if DIR has "
        + "no store yet): {\"tenant\",\"conversation\",\"turns\",\"chunks\",\"tokens\"}. The conversation keeps the "
        + "key in the file unless --conversation (with --tenant, or the default tenant) or --tenant (same id) "
        + "says otherwise; it must not exist yet.")
final class ImportCommand implements Callable<Integer> {

    @Mixin
    StoreOptions store;

    @Option(names = "--in", required = true, paramLabel = "FILE", description = "file written by memlong export")
    Path in;

    @Option(names = "--conversation", paramLabel = "ID", description = "import as this conversation id")
    String conversation;

    @Option(names = "--tenant", paramLabel = "T",
            description = "import under this tenant (with --conversation, default: "
                    + ConversationKey.DEFAULT_TENANT + "; alone: the file's id under T)")
    String tenant;

    @Override
    public Integer call() throws IOException {
        if (!Files.isRegularFile(in)) {
            throw new IllegalArgumentException("no file " + in);
        }
        ConversationInfo info;
        try (ConversationStore s = store.openOrCreate();
             InputStream input = new BufferedInputStream(Files.newInputStream(in), 1 << 16)) {
            info = s.importConversation(input, this::target);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("tenant", info.key().tenant());
        out.put("conversation", info.key().conversationId());
        out.put("turns", info.turnCount());
        out.put("chunks", info.chunkCount());
        out.put("tokens", info.tokenCount());
        Json.print(out);
        return 0;
    }

    private ConversationKey target(ConversationKey inFile) {
        if (conversation != null) {
            return new ConversationKey(tenant != null ? tenant : ConversationKey.DEFAULT_TENANT, conversation);
        }
        return tenant != null ? new ConversationKey(tenant, inFile.conversationId()) : inFile;
    }
}
