package dev.memlong.examples.cli;

import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true, description = "Writes a conversation (dialogue, memory with K/V and embeddings) to a file "
        + "of length-delimited Protobuf records, for backup or another node: "
        + "{\"tenant\",\"conversation\",\"out\",\"records\",\"bytes\"}. Never overwrites a file.")
final class ExportCommand implements Callable<Integer> {

    @Mixin
    StoreOptions store;

    @Mixin
    ConversationOptions conversation;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "file to write (must not exist)")
    Path out;

    @Override
    public Integer call() throws IOException {
        ConversationKey key = conversation.key();
        if (Files.exists(out)) {
            throw new IllegalArgumentException(out + " exists; not overwriting it");
        }
        Path dir = out.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("directory " + dir + " does not exist");
        }
        long records;
        try (ConversationStore s = store.openExisting()) {
            store.requireConversation(s, key);
            // written beside the target and moved into place, so a failed export leaves no truncated file
            Path partial = Files.createTempFile(dir, out.getFileName().toString(), ".partial");
            try {
                try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(partial), 1 << 16)) {
                    records = s.exportConversation(key, o);
                }
                Files.move(partial, out, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(partial);
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("tenant", key.tenant());
        result.put("conversation", key.conversationId());
        result.put("out", out.toString());
        result.put("records", records);
        result.put("bytes", Files.size(out));
        Json.print(result);
        return 0;
    }
}
