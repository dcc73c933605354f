package dev.memlong.gateway.client;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.memlong.gateway.backend.ChatChunk;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatReply;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.proto.ClientFrame;
import dev.memlong.gateway.proto.Forget;
import dev.memlong.gateway.proto.GenerationParams;
import dev.memlong.gateway.proto.HistoryMessage;
import dev.memlong.gateway.proto.ListMemory;
import dev.memlong.gateway.proto.OpenConversation;
import dev.memlong.gateway.proto.ServerFrame;
import dev.memlong.gateway.proto.TurnDone;
import dev.memlong.gateway.proto.UserMessage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A client of the gateway's WebSocket protocol ({@code /ws}, binary Protobuf frames) on the JDK's
 * {@link WebSocket}: open a conversation, send user messages (deltas to a callback, the reply as a future),
 * list and forget memory. The wire types stay inside; callers see the backend records ({@link ChatReply},
 * {@link ChatTurn}, {@link ChatChunk}) and failures as {@link ChatException}s with the server's error code.
 * Thread-safe; several requests may be in flight (up to the server's per-connection limit).
 */
public final class GatewayClient implements AutoCloseable {

    /**
     * An opened conversation.
     *
     * @param conversationId its id
     * @param tenant         the tenant the API key is bound to
     * @param history        its stored dialogue, when asked for
     */
    public record Opened(String conversationId, String tenant, List<ChatTurn> history) {}

    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong requestIds = new AtomicLong();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private WebSocket socket;
    private CompletableFuture<WebSocket> sending;

    private GatewayClient() {}

    /** Connects to {@code uri} ({@code ws://HOST:PORT/ws}) with its own HTTP client; {@code apiKey} may be null. */
    public static GatewayClient connect(URI uri, String apiKey) {
        try {
            return connect(HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build(), uri, apiKey,
                    Duration.ofSeconds(10)).join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof ChatException c ? c : e;
        }
    }

    /**
     * Connects through {@code http} (one HTTP client can carry many connections); fails with a
     * {@link ChatException}: {@code UNAUTHENTICATED} for a refused key, {@code UNAVAILABLE} otherwise.
     */
    public static CompletableFuture<GatewayClient> connect(HttpClient http, URI uri, String apiKey,
                                                           Duration timeout) {
        GatewayClient client = new GatewayClient();
        WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(timeout);
        if (apiKey != null && !apiKey.isEmpty()) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b.buildAsync(uri, client.new Listener()).handle((ws, e) -> {
            if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause instanceof WebSocketHandshakeException h && h.getResponse().statusCode() == 401) {
                    throw new ChatException(ErrorCode.UNAUTHENTICATED, "the server refused the API key");
                }
                throw new ChatException(ErrorCode.UNAVAILABLE, "cannot connect to " + uri + ": " + cause, cause);
            }
            synchronized (client) {
                client.socket = ws;
                client.sending = CompletableFuture.completedFuture(ws);
            }
            return client;
        });
    }

    /** Opens (or resumes) a conversation; later messages go to it. */
    public CompletableFuture<Opened> open(String conversationId, boolean includeHistory) {
        String id = nextId();
        return request(id, null, ClientFrame.newBuilder().setOpen(OpenConversation.newBuilder().setRequestId(id)
                .setConversationId(conversationId).setIncludeHistory(includeHistory)).build())
                .thenApply(f -> new Opened(f.getOpened().getConversationId(), f.getOpened().getTenant(),
                        f.getOpened().getHistoryList().stream().map(GatewayClient::turn).toList()));
    }

    /**
     * Sends a user message of the open conversation. {@code onDelta} gets each piece of reply text as it arrives
     * (on the client's receiving thread; keep it short); the future completes with the committed reply.
     * Cancelling the future cancels the turn on the server.
     */
    public CompletableFuture<ChatReply> send(String text, ChatParams params, Consumer<String> onDelta) {
        String id = nextId();
        GenerationParams.Builder p = GenerationParams.newBuilder().setMaxNewTokens(params.maxNewTokens())
                .setTemperature(params.temperature()).setTopK(params.topK()).setTopP(params.topP())
                .setRepetitionPenalty(params.repetitionPenalty()).setSeed(params.seed())
                .addAllStop(params.stopStrings());
        CompletableFuture<ChatReply> reply = request(id, onDelta, ClientFrame.newBuilder().setMessage(
                UserMessage.newBuilder().setRequestId(id).setText(text).setParams(p)).build())
                .thenApply(f -> reply(f.getDone()));
        reply.whenComplete((r, e) -> {
            if (e instanceof CancellationException) {
                write(ClientFrame.newBuilder().setCancel(dev.memlong.gateway.proto.Cancel.newBuilder()
                        .setRequestId(id)).build());
            }
        });
        return reply;
    }

    /** The open conversation's memory chunks. */
    public CompletableFuture<List<ChatChunk>> memory() {
        String id = nextId();
        return request(id, null, ClientFrame.newBuilder().setListMemory(ListMemory.newBuilder().setRequestId(id))
                .build()).thenApply(f -> f.getMemory().getChunksList().stream().map(c -> new ChatChunk(c.getSeq(),
                c.getTokenCount(), c.getRetrievalCount(), c.getText())).toList());
    }

    /** Deletes the open conversation's dialogue and memory; completes with whether anything was stored. */
    public CompletableFuture<Boolean> forget() {
        String id = nextId();
        return request(id, null, ClientFrame.newBuilder().setForget(Forget.newBuilder().setRequestId(id)).build())
                .thenApply(f -> f.getForgotten().getExisted());
    }

    /** Completes with the close code when the connection ends (-1 for an abort). */
    public CompletableFuture<Integer> closed() {
        return closed;
    }

    @Override
    public void close() {
        WebSocket ws;
        CompletableFuture<WebSocket> lastSend;
        synchronized (this) {
            ws = socket;
            lastSend = sending;
        }
        if (ws != null && !ws.isOutputClosed()) {
            try {
                lastSend.exceptionally(e -> ws).thenCompose(s -> s.sendClose(WebSocket.NORMAL_CLOSURE, "bye"))
                        .get(2, java.util.concurrent.TimeUnit.SECONDS);
                closed.get(2, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (ws != null) {
            ws.abort();
        }
        failAll(new ChatException(ErrorCode.CANCELLED, "the client closed the connection"));
        closed.complete(-1);
    }

    private String nextId() {
        return "r" + requestIds.incrementAndGet();
    }

    private CompletableFuture<ServerFrame> request(String id, Consumer<String> onDelta, ClientFrame frame) {
        Pending p = new Pending(new CompletableFuture<>(), onDelta);
        pending.put(id, p);
        if (closed.isDone()) {
            pending.remove(id);
            return CompletableFuture.failedFuture(new ChatException(ErrorCode.UNAVAILABLE, "the connection is closed"));
        }
        write(frame).whenComplete((ws, e) -> {
            if (e != null) {
                Pending gone = pending.remove(id);
                if (gone != null) {
                    gone.end().completeExceptionally(new ChatException(ErrorCode.UNAVAILABLE,
                            "cannot send: " + e.getMessage(), e));
                }
            }
        });
        return p.end();
    }

    /** One send at a time, as {@link WebSocket} requires; frames go out in call order. */
    private synchronized CompletableFuture<WebSocket> write(ClientFrame frame) {
        ByteBuffer bytes = ByteBuffer.wrap(frame.toByteArray());
        sending = sending.exceptionally(e -> socket).thenCompose(ws -> ws.sendBinary(bytes, true));
        return sending;
    }

    private void failAll(ChatException error) {
        for (String id : List.copyOf(pending.keySet())) {
            Pending p = pending.remove(id);
            if (p != null) {
                p.end().completeExceptionally(error);
            }
        }
    }

    private void received(ServerFrame f) {
        switch (f.getKindCase()) {
            case DELTA -> {
                Pending p = pending.get(f.getDelta().getRequestId());
                if (p != null && p.onDelta() != null) {
                    p.onDelta().accept(f.getDelta().getText());
                }
            }
            case OPENED -> finish(f.getOpened().getRequestId(), f);
            case DONE -> finish(f.getDone().getRequestId(), f);
            case MEMORY -> finish(f.getMemory().getRequestId(), f);
            case FORGOTTEN -> finish(f.getForgotten().getRequestId(), f);
            case ERROR -> {
                Pending p = pending.remove(f.getError().getRequestId());
                if (p != null) {
                    p.end().completeExceptionally(new ChatException(code(f.getError().getCode()),
                            f.getError().getMessage()));
                }
            }
            case KIND_NOT_SET -> { }
        }
    }

    private void finish(String requestId, ServerFrame f) {
        Pending p = pending.remove(requestId);
        if (p != null) {
            p.end().complete(f);
        }
    }

    private static ErrorCode code(dev.memlong.gateway.proto.ErrorCode wire) {
        try {
            return ErrorCode.valueOf(wire.name());
        } catch (IllegalArgumentException e) {
            return ErrorCode.INTERNAL;
        }
    }

    private static ChatTurn turn(HistoryMessage m) {
        return new ChatTurn(m.getSeq(), m.getRole().equals("user") ? ChatTurn.Role.USER : ChatTurn.Role.ASSISTANT,
                m.getText());
    }

    private static ChatReply reply(TurnDone d) {
        return new ChatReply(d.getText(), d.getUsage().getPromptTokens(), d.getUsage().getCompletionTokens(),
                Duration.ofNanos((long) (d.getTimings().getTtftMs() * 1e6)), d.getTimings().getTokensPerSecond(),
                Duration.ZERO, d.getRetrievedList().stream()
                        .map(c -> new ChatReply.Retrieved(c.getSeq(), c.getScore(), c.getText())).toList(),
                d.getFinishReason().equals("length") ? ChatReply.Finish.LENGTH : ChatReply.Finish.STOP,
                d.getUsage().getMemoryTokens(), d.getUsage().getWindowTokens());
    }

    private record Pending(CompletableFuture<ServerFrame> end, Consumer<String> onDelta) {}

    private final class Listener implements WebSocket.Listener {
        private final ByteArrayOutputStream binary = new ByteArrayOutputStream();

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            binary.writeBytes(chunk);
            if (last) {
                byte[] message = binary.toByteArray();
                binary.reset();
                try {
                    received(ServerFrame.parseFrom(message));
                } catch (InvalidProtocolBufferException e) {
                    failAll(new ChatException(ErrorCode.INTERNAL, "the server sent a bad frame: " + e.getMessage()));
                    ws.abort();
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            failAll(new ChatException(ErrorCode.UNAVAILABLE, "the server closed the connection (" + statusCode
                    + (reason.isEmpty() ? "" : " " + reason) + ")"));
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            failAll(new ChatException(ErrorCode.UNAVAILABLE, "connection failed: " + error, error));
            closed.complete(-1);
        }
    }
}
