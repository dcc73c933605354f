package dev.memlong.examples.cli;

import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.client.GatewayClient;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** {@code memlong chat --url ws://HOST:PORT/ws}: a conversation on a chat server, over its WebSocket protocol. */
final class RemoteChat implements ChatSession {

    private final GatewayClient client;

    RemoteChat(URI url, String apiKey, String conversationId) {
        this.client = GatewayClient.connect(url, apiKey);
        try {
            client.open(conversationId, false).join();
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    @Override
    public CompletableFuture<ChatReply> turn(String text, ChatParams params, Consumer<String> onDelta) {
        return client.send(text, params, onDelta);
    }

    @Override
    public void close() {
        client.close();
    }
}
