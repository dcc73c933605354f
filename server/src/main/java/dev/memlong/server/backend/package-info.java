/**
 * {@link dev.memlong.server.backend.RuntimeChatBackend}: the gateway's {@code ChatBackend} over the embeddable
 * runtime ({@code MemLongRuntime}), with the record conversions and error mapping in
 * {@link dev.memlong.server.backend.ChatMapping}.
 */
package dev.memlong.server.backend;
