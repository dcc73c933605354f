package dev.memlong.examples.cli;

import dev.memlong.storage.ConversationKey;
import picocli.CommandLine.Option;

/** {@code --conversation ID [--tenant T]}: one conversation; without {@code --tenant}, the default tenant. */
final class ConversationOptions {

    @Option(names = "--conversation", required = true, paramLabel = "ID", description = "conversation id")
    String conversation;

    @Option(names = "--tenant", defaultValue = ConversationKey.DEFAULT_TENANT, paramLabel = "T",
            description = "tenant (default: ${DEFAULT-VALUE}, the one memlong chat uses)")
    String tenant;

    ConversationKey key() {
        return new ConversationKey(tenant, conversation);
    }
}
