package dev.memlong.examples.cli;

import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.StorageSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --data DIR}: the node's data directory, whose {@code rocksdb/} is the conversation store. */
final class StoreOptions {

    @Option(names = "--data", defaultValue = "./data", paramLabel = "DIR",
            description = "data directory; the store is DIR/rocksdb (default: ${DEFAULT-VALUE})")
    Path data;

    Path storePath() {
        return data.resolve("rocksdb");
    }

    /** Opens the store that must already exist (a typo in --data must not create an empty one). */
    ConversationStore openExisting() {
        if (!Files.isDirectory(storePath())) {
            throw new IllegalArgumentException("no store at " + storePath() + " (check --data)");
        }
        return open();
    }

    /** Opens the store, creating DIR/rocksdb if DIR exists but holds no store yet. */
    ConversationStore openOrCreate() {
        if (!Files.isDirectory(data)) {
            throw new IllegalArgumentException("data directory " + data + " does not exist (check --data)");
        }
        return open();
    }

    private ConversationStore open() {
        return ConversationStore.open(StorageSettings.defaults().withPath(storePath()));
    }

    /** Fails unless {@code key} is a conversation of {@code store}. */
    void requireConversation(ConversationStore store, ConversationKey key) {
        if (store.conversation(key).isEmpty()) {
            throw new IllegalArgumentException("no conversation " + key + " in " + storePath());
        }
    }
}
