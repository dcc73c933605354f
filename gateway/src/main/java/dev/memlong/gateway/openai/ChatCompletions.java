package dev.memlong.gateway.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.gateway.backend.ChatConversation;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ChatParams;
import dev.memlong.gateway.backend.ChatTurn;
import dev.memlong.gateway.backend.ErrorCode;
import dev.memlong.gateway.config.TenantNames;
import dev.memlong.gateway.server.GatewayContext;
import dev.memlong.gateway.server.HttpResponses;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

import java.io.IOException;
import java.util.List;
import java.util.UUID;

/**
 * The OpenAI endpoints of one connection. A chat completion reads the conversation's log, keeps only the new
 * user turn ({@link LogAlignment}), and streams it through the backend. The connection hands over one request at
 * a time (HTTP/1.1 answers in order: a pipelined request waits in the server's {@code HttpPipelining} until this
 * turn's answer has been written), and a closed connection cancels the turn. Event loop only.
 */
public final class ChatCompletions {

    /** The header that names the conversation. */
    public static final String CONVERSATION_HEADER = "X-Conversation-Id";

    private final GatewayContext gw;
    private HttpTurn current;

    public ChatCompletions(GatewayContext gw) {
        this.gw = gw;
    }

    /** {@code GET /v1/models}. */
    public void models(ChannelHandlerContext ctx, boolean keepAlive) {
        gw.metrics().request("http", "models");
        HttpResponses.send(ctx, HttpResponseStatus.OK,
                OpenAiJson.models(gw.backend().models(), System.currentTimeMillis() / 1000), keepAlive);
    }

    /** {@code POST /v1/chat/completions} of {@code tenant}; the request is released by the caller. */
    public void complete(ChannelHandlerContext ctx, FullHttpRequest http, String tenant) {
        boolean keepAlive = HttpUtil.isKeepAlive(http);
        gw.metrics().request("http", "chat");
        if (gw.draining().get()) {
            error(ctx, new ChatException(ErrorCode.UNAVAILABLE, "the server is shutting down; retry elsewhere"),
                    false);
            return;
        }
        // Only JSON: a browser sends text/plain or a form cross-origin with no CORS preflight, and a page the
        // user visits must not be able to start turns in the loopback-only, keyless mode.
        CharSequence mime = HttpUtil.getMimeType(http);
        if (mime == null || !mime.toString().strip().equalsIgnoreCase("application/json")) {
            gw.metrics().error(ErrorCode.INVALID);
            HttpResponses.sendError(ctx, HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, ErrorCode.INVALID,
                    "the body must be sent as Content-Type: application/json", keepAlive);
            return;
        }
        CompletionRequest request;
        ChatConversation conversation;
        ChatParams params;
        try {
            request = CompletionRequest.parse(readJson(http));
            // Only a served model, as OpenAI and vLLM answer (404 model_not_found): any other name would be
            // answered by the served one while the reply carried the name asked for.
            if (!gw.backend().models().contains(request.model())) {
                throw ChatException.modelNotFound(request.model(), gw.backend().models());
            }
            conversation = gw.backend().conversation(tenant, conversationId(http, request));
            params = gw.params(request.params());
            for (CompletionRequest.Message m : request.messages()) {
                checkLength("a message", m.content());
            }
            if (request.systemPrompt() != null) {
                checkLength("the system prompt", request.systemPrompt());
            }
            if (!gw.rateLimiter().tryAcquire(tenant)) {
                throw new ChatException(ErrorCode.RATE_LIMITED, "request rate over the tenant's limit; retry later");
            }
        } catch (ChatException e) {
            error(ctx, e, keepAlive);
            return;
        }
        gw.metrics().inFlight().incrementAndGet();
        HttpTurn turn = new HttpTurn(ctx, request, "chatcmpl-" + UUID.randomUUID(), request.model(), keepAlive,
                gw.metrics(), this::ended);
        current = turn;
        conversation.history().whenComplete((log, failure) -> ctx.executor().execute(() -> {
            if (turn.ended()) {
                return; // the connection closed meanwhile
            }
            String text;
            try {
                if (failure != null) {
                    throw ChatException.of(failure);
                }
                text = newText(log, request);
            } catch (ChatException e) {
                turn.onError(e);
                return;
            }
            conversation.stream(text, request.systemPrompt(), params).subscribe(turn);
        }));
    }

    private void checkLength(String what, String text) {
        if (text.length() > gw.settings().maxMessageChars()) {
            throw new ChatException(ErrorCode.TOO_LARGE, what + " is " + text.length()
                    + " characters, the limit is " + gw.settings().maxMessageChars());
        }
    }

    private String newText(List<ChatTurn> log, CompletionRequest request) {
        String text = LogAlignment.newUserText(log, request.messages());
        if (text.length() > gw.settings().maxMessageChars()) {
            throw new ChatException(ErrorCode.TOO_LARGE, "the new user turn is " + text.length()
                    + " characters, the limit is " + gw.settings().maxMessageChars());
        }
        if (text.isBlank()) {
            throw new ChatException(ErrorCode.INVALID, "the new user message is empty");
        }
        return text;
    }

    private void ended(HttpTurn turn) {
        if (current == turn) {
            current = null;
        }
        gw.metrics().inFlight().decrementAndGet();
    }

    /** The channel became writable again: the turn in flight, if paused for the client to read, goes on. */
    public void writable() {
        if (current != null) {
            current.resume();
        }
    }

    /**
     * Whether the turn in flight waits for the client to read what was already written (paused, or its channel
     * not writable): it is then not making progress, and the idle timeout may close the connection.
     */
    public boolean waitingForClient() {
        return current != null && (current.paused() || !current.channel().isWritable());
    }

    /** The connection closed: cancel the turn in flight, if any. */
    public void closed() {
        if (current != null) {
            current.cancel();
        }
    }

    private void error(ChannelHandlerContext ctx, ChatException e, boolean keepAlive) {
        gw.metrics().error(e.code());
        HttpResponses.sendError(ctx, e, keepAlive);
    }

    private static String conversationId(FullHttpRequest http, CompletionRequest request) {
        String id = http.headers().get(CONVERSATION_HEADER);
        if (id == null) {
            id = request.user();
        }
        if (id == null) {
            throw new ChatException(ErrorCode.INVALID, "name the conversation with the " + CONVERSATION_HEADER
                    + " header or the user field");
        }
        if (!TenantNames.validConversationId(id)) {
            throw new ChatException(ErrorCode.INVALID, "the conversation id must be 1-"
                    + TenantNames.MAX_CONVERSATION_ID + " characters without control characters");
        }
        return id;
    }

    private static JsonNode readJson(FullHttpRequest http) {
        if (http.content().readableBytes() == 0) {
            throw new ChatException(ErrorCode.INVALID, "the body must be a JSON object");
        }
        try (ByteBufInputStream in = new ByteBufInputStream(http.content().duplicate())) {
            return HttpResponses.JSON.readTree((java.io.InputStream) in);
        } catch (IOException e) {
            throw new ChatException(ErrorCode.INVALID, "the body is not valid JSON: " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unparsable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
