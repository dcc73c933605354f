package dev.memlong.gateway.ws;

import dev.memlong.gateway.backend.ChatConversation;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.config.TenantNames;
import dev.memlong.gateway.security.AuthHandler;
import dev.memlong.gateway.server.GatewayContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * One WebSocket connection's session: its tenant (from the upgrade request's key), its open conversation, and its
 * requests in flight by request id. Checks come before any backend call, in this order: state (a conversation is
 * open, the request id is new), the request itself (id, length, parameters), the connection's concurrency limit,
 * the tenant's rate. Every request ends with exactly one answer carrying its id; the connection survives every
 * error. Runs on the channel's event loop only.
 */
public final class WsSessionHandler extends SimpleChannelInboundHandler<ClientCommand> {

    private static final Logger LOG = LoggerFactory.getLogger(WsSessionHandler.class);
    private static final int MAX_REQUEST_ID = 128;
    private static final AttributeKey<Boolean> UPGRADED = AttributeKey.valueOf("memlong.websocket");

    private final GatewayContext gw;
    private final Map<String, Object> inFlight = new LinkedHashMap<>();
    private ChatConversation conversation;

    public WsSessionHandler(GatewayContext gw) {
        this.gw = gw;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ClientCommand command) {
        try {
            switch (command) {
                case ClientCommand.Malformed m -> fail(ctx, m, ErrorCode.INVALID, m.problem());
                case ClientCommand.Open o -> open(ctx, o);
                case ClientCommand.Message m -> message(ctx, m);
                case ClientCommand.Cancel c -> cancel(ctx, c);
                case ClientCommand.ListMemory l -> query(ctx, l, "memory", c -> c.memory()
                        .thenApply(chunks -> new ServerEvent.Memory(l.requestId(), chunks)));
                case ClientCommand.Forget f -> query(ctx, f, "forget", c -> c.forget()
                        .thenApply(existed -> new ServerEvent.Forgotten(f.requestId(), existed)));
            }
        } catch (ChatException e) {
            fail(ctx, command, e.code(), e.getMessage());
        }
    }

    private String tenant(ChannelHandlerContext ctx) {
        return ctx.channel().attr(AuthHandler.TENANT).get();
    }

    private void open(ChannelHandlerContext ctx, ClientCommand.Open o) {
        checkRequestId(o.requestId(), false);
        if (!inFlight.isEmpty()) {
            throw new ChatException(ErrorCode.OUT_OF_ORDER, "open while " + inFlight.size() + " requests are in flight");
        }
        if (!TenantNames.validConversationId(o.conversationId())) {
            throw new ChatException(ErrorCode.INVALID, "conversation_id must be 1-" + TenantNames.MAX_CONVERSATION_ID
                    + " characters without control characters");
        }
        admit(ctx, "open");
        conversation = gw.backend().conversation(tenant(ctx), o.conversationId());
        ChatConversation c = conversation;
        if (!o.includeHistory()) {
            send(ctx, new ServerEvent.Opened(o.requestId(), c.conversationId(), c.tenant(), java.util.List.of()),
                    o.encoding());
            return;
        }
        track(ctx, o, c.history().thenApply(h -> new ServerEvent.Opened(o.requestId(), c.conversationId(),
                c.tenant(), h)));
    }

    private void message(ChannelHandlerContext ctx, ClientCommand.Message m) {
        requireConversation();
        checkRequestId(m.requestId(), true);
        if (m.text().length() > gw.settings().maxMessageChars()) {
            throw new ChatException(ErrorCode.TOO_LARGE, "message is " + m.text().length()
                    + " characters, the limit is " + gw.settings().maxMessageChars());
        }
        if (m.text().isBlank()) {
            throw new ChatException(ErrorCode.INVALID, "text must not be empty");
        }
        if (m.systemPrompt() != null && m.systemPrompt().length() > gw.settings().maxMessageChars()) {
            throw new ChatException(ErrorCode.TOO_LARGE, "system_prompt is " + m.systemPrompt().length()
                    + " characters, the limit is " + gw.settings().maxMessageChars());
        }
        ChatParams params = gw.params(m.params());
        admit(ctx, "chat");
        WsTurn turn = new WsTurn(ctx.channel(), m.requestId(), m.encoding(), gw.metrics(), this::ended);
        inFlight.put(m.requestId(), turn);
        gw.metrics().inFlight().incrementAndGet();
        conversation.stream(m.text(), m.systemPrompt(), params).subscribe(turn);
    }

    private void ended(WsTurn turn) {
        if (inFlight.remove(turn.requestId(), turn)) {
            gw.metrics().inFlight().decrementAndGet();
        }
    }

    private void cancel(ChannelHandlerContext ctx, ClientCommand.Cancel c) {
        checkIdShape(c.requestId(), true);
        if (inFlight.get(c.requestId()) instanceof WsTurn turn) {
            turn.cancel(); // answers CANCELLED with the request's id and encoding
        } else {
            throw new ChatException(ErrorCode.NOT_FOUND, "no user message in flight with request_id "
                    + c.requestId());
        }
    }

    private void query(ChannelHandlerContext ctx, ClientCommand command, String kind,
                       Function<ChatConversation, CompletionStage<? extends ServerEvent>> call) {
        requireConversation();
        checkRequestId(command.requestId(), true);
        admit(ctx, kind);
        track(ctx, command, call.apply(conversation));
    }

    /** Registers a request answered by {@code answer}, and sends the answer (or its error) when it completes. */
    private void track(ChannelHandlerContext ctx, ClientCommand command, CompletionStage<? extends ServerEvent> answer) {
        Object marker = new Object();
        inFlight.put(command.requestId(), marker);
        gw.metrics().inFlight().incrementAndGet();
        answer.whenComplete((event, error) -> ctx.executor().execute(() -> {
            if (inFlight.remove(command.requestId(), marker)) {
                gw.metrics().inFlight().decrementAndGet();
            }
            if (error != null) {
                ChatException e = ChatException.of(error);
                fail(ctx, command, e.code(), e.getMessage());
            } else {
                send(ctx, event, command.encoding());
            }
        }));
    }

    private void requireConversation() {
        if (conversation == null) {
            throw new ChatException(ErrorCode.OUT_OF_ORDER, "open a conversation first");
        }
    }

    /** Checks a new request's id: well formed and not in flight. */
    private void checkRequestId(String id, boolean required) {
        checkIdShape(id, required);
        if (inFlight.containsKey(id) && !id.isEmpty()) {
            throw new ChatException(ErrorCode.OUT_OF_ORDER, "request_id " + id + " is already in flight");
        }
    }

    private static void checkIdShape(String id, boolean required) {
        if (required && id.isEmpty()) {
            throw new ChatException(ErrorCode.INVALID, "request_id must not be empty");
        }
        if (id.length() > MAX_REQUEST_ID) {
            throw new ChatException(ErrorCode.INVALID, "request_id is longer than " + MAX_REQUEST_ID);
        }
    }

    /**
     * Counts the request, then refuses it while the server drains for shutdown, and applies the connection's
     * concurrency limit and the tenant's rate.
     */
    private void admit(ChannelHandlerContext ctx, String kind) {
        gw.metrics().request("ws", kind);
        if (gw.draining().get()) {
            throw new ChatException(ErrorCode.UNAVAILABLE, "the server is shutting down; reconnect later");
        }
        if (inFlight.size() >= gw.settings().maxRequestsPerConnection()) {
            throw new ChatException(ErrorCode.TOO_MANY_REQUESTS, "the connection already has " + inFlight.size()
                    + " requests in flight (limit " + gw.settings().maxRequestsPerConnection() + ")");
        }
        if (!gw.rateLimiter().tryAcquire(tenant(ctx))) {
            throw new ChatException(ErrorCode.RATE_LIMITED, "request rate over the tenant's limit; retry later");
        }
    }

    private void fail(ChannelHandlerContext ctx, ClientCommand command, ErrorCode code, String message) {
        String id = command.requestId().length() > MAX_REQUEST_ID ? "" : command.requestId();
        send(ctx, new ServerEvent.Failed(id, code, message), command.encoding());
    }

    private void send(ChannelHandlerContext ctx, ServerEvent event, Encoding encoding) {
        if (event instanceof ServerEvent.Failed f) {
            gw.metrics().error(f.code());
        }
        if (ctx.channel().isActive()) {
            ctx.writeAndFlush(new ServerEvent.Outbound(event, encoding));
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            for (Object o : new ArrayList<>(inFlight.values())) {
                if (o instanceof WsTurn turn) {
                    turn.resume();
                }
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Marks the channel a WebSocket once upgraded (shutdown and the idle timeout send those a close frame), and
     * closes an idle connection unless its requests in flight are making progress or still being computed. One
     * whose turn waits for the client to read (paused, or the channel not writable) is idle, requests or not: it
     * is closed at once (a close frame could not go out) and the close cancels its turns. (A plain HTTP connection
     * has nothing in flight here: {@link dev.memlong.gateway.server.HttpRouter} keeps the idle event of one being
     * answered from reaching this, the last handler, while that answer makes progress.)
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            ctx.channel().attr(UPGRADED).set(Boolean.TRUE);
        }
        if (evt instanceof IdleStateEvent) {
            if (waitingForClient(ctx.channel())) {
                LOG.debug("closing connection {}: idle, its client does not read", ctx.channel().remoteAddress());
                ctx.close();
            } else if (inFlight.isEmpty()) {
                closeIdle(ctx);
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** Whether what was written waits for the client to read it: the channel is not writable, or a turn paused. */
    private boolean waitingForClient(Channel channel) {
        if (!channel.isWritable()) {
            return true;
        }
        for (Object o : inFlight.values()) {
            if (o instanceof WsTurn turn && turn.paused()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Closes an idle connection; a WebSocket gets a close frame first, 1001 (going away) with the reason, so its
     * client can tell an idle timeout from a failure and reconnect when it has something to send. (A bare close
     * would go out as 1000, normal closure, with no reason.)
     */
    private void closeIdle(ChannelHandlerContext ctx) {
        if (isWebSocket(ctx.channel())) {
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "idle timeout"))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }

    /** Whether {@code channel} completed the WebSocket upgrade. */
    public static boolean isWebSocket(Channel channel) {
        return Boolean.TRUE.equals(channel.attr(UPGRADED).get());
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (Object o : new ArrayList<>(inFlight.values())) {
            if (o instanceof WsTurn turn) {
                turn.cancel(); // the caller went away: free the backend slot
            }
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("closing WebSocket connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
