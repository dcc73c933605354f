package dev.memlong.gateway.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.gateway.backend.ChatException;
import dev.memlong.gateway.backend.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;

/** Writing whole HTTP responses: JSON, text, and OpenAI-style errors ({@code {"error":{...}}}). */
public final class HttpResponses {

    /** The gateway's one JSON mapper (thread-safe once configured). */
    public static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private HttpResponses() {
    }

    /** The OpenAI error object for {@code code}. */
    public static ObjectNode errorBody(ErrorCode code, String message) {
        return errorBody(code, message, null);
    }

    /** The OpenAI error object, naming the request parameter at fault ({@code param}) when there is one. */
    public static ObjectNode errorBody(ErrorCode code, String message, String param) {
        return errorBody(code, code.wireName(), message, param);
    }

    /** The OpenAI error object of {@code e}, with its own OpenAI {@code code} (e.g. {@code model_not_found}). */
    public static ObjectNode errorBody(ChatException e) {
        return errorBody(e.code(), e.openAiCode(), e.getMessage(), e.param());
    }

    private static ObjectNode errorBody(ErrorCode code, String wireCode, String message, String param) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", code.openAiType());
        if (param == null) {
            error.putNull("param");
        } else {
            error.put("param", param);
        }
        error.put("code", wireCode);
        return root;
    }

    /** Writes an OpenAI-style error with the status of {@code code}; closes the connection unless keepAlive. */
    public static void sendError(ChannelHandlerContext ctx, ErrorCode code, String message, boolean keepAlive) {
        send(ctx, HttpResponseStatus.valueOf(code.httpStatus()), errorBody(code, message), keepAlive);
    }

    /**
     * Writes an OpenAI-style error of {@code code} with a status of its own, for the HTTP-only refusals that
     * have no {@link ErrorCode} (403, 405, 415, 421); {@code extraHeaders} are name, value pairs.
     */
    public static void sendError(ChannelHandlerContext ctx, HttpResponseStatus status, ErrorCode code, String message,
                                 boolean keepAlive, String... extraHeaders) {
        FullHttpResponse response = response(status, "application/json",
                Unpooled.wrappedBuffer(json(errorBody(code, message))), keepAlive);
        for (int i = 0; i + 1 < extraHeaders.length; i += 2) {
            response.headers().set(extraHeaders[i], extraHeaders[i + 1]);
        }
        write(ctx, response, keepAlive);
    }

    /** {@link #sendError(ChannelHandlerContext, ErrorCode, String, boolean)} of a {@link ChatException}. */
    public static void sendError(ChannelHandlerContext ctx, ChatException e, boolean keepAlive) {
        send(ctx, HttpResponseStatus.valueOf(e.code().httpStatus()), errorBody(e), keepAlive);
    }

    /** Writes {@code body} as JSON. */
    public static void send(ChannelHandlerContext ctx, HttpResponseStatus status, Object body, boolean keepAlive) {
        send(ctx, status, "application/json", Unpooled.wrappedBuffer(json(body)), keepAlive);
    }

    private static byte[] json(Object body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    /** Writes a UTF-8 text body. */
    public static void sendText(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType, String text,
                                boolean keepAlive) {
        send(ctx, status, contentType, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), keepAlive);
    }

    /** Writes {@code content} (ownership passes to the response) and flushes. */
    public static void send(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType, ByteBuf content,
                            boolean keepAlive) {
        write(ctx, response(status, contentType, content, keepAlive), keepAlive);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String contentType, ByteBuf content,
                                             boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        response.headers().set("X-Content-Type-Options", "nosniff");
        HttpUtil.setContentLength(response, content.readableBytes());
        HttpUtil.setKeepAlive(response, keepAlive);
        return response;
    }

    private static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        var future = ctx.writeAndFlush(response);
        if (!keepAlive) {
            future.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
