/**
 * The WebSocket protocol at {@code /ws}: {@link dev.memlong.gateway.ws.ProtobufFrameCodec} turns frames (binary:
 * Protobuf, text: Protobuf canonical JSON) into {@link dev.memlong.gateway.ws.ClientCommand}s and
 * {@link dev.memlong.gateway.ws.ServerEvent}s back into frames, through
 * {@link dev.memlong.gateway.ws.WireMapping}; past the codec nothing sees a wire type.
 * {@link dev.memlong.gateway.ws.WsSessionHandler} runs a connection's session.
 */
package dev.memlong.gateway.ws;
