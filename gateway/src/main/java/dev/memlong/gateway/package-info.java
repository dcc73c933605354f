/**
 * The MemLong gateway: how chatbot backends, WebSocket clients and people reach the runtime. See
 * {@link dev.memlong.gateway.server.GatewayServer} to run one and {@link dev.memlong.gateway.backend.ChatBackend}
 * for what it fronts.
 */
package dev.memlong.gateway;
