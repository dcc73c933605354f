/**
 * {@link dev.memlong.gateway.client.GatewayClient}: a Java client of the gateway's WebSocket protocol, used by
 * {@code memlong chat --url} and {@code memlong bench gateway}.
 */
package dev.memlong.gateway.client;
