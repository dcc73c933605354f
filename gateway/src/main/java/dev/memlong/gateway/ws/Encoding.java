package dev.memlong.gateway.ws;

/** How a frame carries a message: Protobuf binary in a binary frame, canonical JSON in a text frame. */
public enum Encoding {
    BINARY, JSON
}
