package dev.memlong.examples.cli;

import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** One conversation of {@code memlong chat}: in this process ({@link InProcessChat}) or on a server ({@link RemoteChat}). */
interface ChatSession extends AutoCloseable {

    /** Sends a user turn; {@code onDelta} gets the reply text as it is generated. */
    CompletableFuture<ChatReply> turn(String text, ChatParams params, Consumer<String> onDelta);

    @Override
    void close();
}
