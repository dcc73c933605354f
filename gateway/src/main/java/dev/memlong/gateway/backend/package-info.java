/**
 * What the gateway fronts: {@link dev.memlong.gateway.backend.ChatBackend}, a small asynchronous view of the
 * embeddable runtime ({@code MemLongRuntime} / {@code Conversation} of module {@code actors}) in plain Java types.
 * Nothing here knows Netty, Protobuf or JSON; the wire types are mapped to these records at the edge.
 */
package dev.memlong.gateway.backend;
