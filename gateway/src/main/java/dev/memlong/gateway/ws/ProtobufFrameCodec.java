package dev.memlong.gateway.ws;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.memlong.gateway.proto.ClientFrame;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

import java.util.List;

/**
 * WebSocket frames to {@link ClientCommand}s and {@link ServerEvent.Outbound}s to frames. A binary frame is one
 * Protobuf {@code ClientFrame}; a text frame is one in canonical JSON (unknown fields rejected). A frame that does
 * not parse becomes {@link ClientCommand.Malformed}, so the session answers it and the connection stays open.
 * Control frames pass through (the protocol handler has already answered them).
 */
public final class ProtobufFrameCodec extends MessageToMessageCodec<WebSocketFrame, ServerEvent.Outbound> {

    private static final JsonFormat.Parser JSON_IN = JsonFormat.parser();
    private static final JsonFormat.Printer JSON_OUT = JsonFormat.printer().omittingInsignificantWhitespace();

    @Override
    protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) {
        if (frame instanceof BinaryWebSocketFrame) {
            out.add(decodeBinary(frame.content()));
        } else if (frame instanceof TextWebSocketFrame text) {
            out.add(decodeJson(text.text()));
        } else {
            out.add(frame.retain());
        }
    }

    private static ClientCommand decodeBinary(ByteBuf content) {
        try {
            return WireMapping.toCommand(ClientFrame.parseFrom(content.nioBuffer()), Encoding.BINARY);
        } catch (InvalidProtocolBufferException e) {
            return new ClientCommand.Malformed("", "not a ClientFrame: " + e.getMessage(), Encoding.BINARY);
        }
    }

    private static ClientCommand decodeJson(String text) {
        ClientFrame.Builder b = ClientFrame.newBuilder();
        try {
            JSON_IN.merge(text, b);
            return WireMapping.toCommand(b.build(), Encoding.JSON);
        } catch (InvalidProtocolBufferException | RuntimeException e) { // Gson errors escape as runtime exceptions
            return new ClientCommand.Malformed("", "not a ClientFrame in JSON: " + firstLine(e.getMessage()),
                    Encoding.JSON);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unparsable";
        }
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ServerEvent.Outbound msg, List<Object> out) throws Exception {
        var frame = WireMapping.toFrame(msg.event());
        if (msg.encoding() == Encoding.BINARY) {
            byte[] bytes = frame.toByteArray();
            ByteBuf buf = ctx.alloc().buffer(bytes.length);
            buf.writeBytes(bytes);
            out.add(new BinaryWebSocketFrame(buf));
        } else {
            out.add(new TextWebSocketFrame(JSON_OUT.print(frame)));
        }
    }
}
