/**
 * The Netty server: {@link dev.memlong.gateway.server.GatewayServer} (bootstrap, graceful shutdown),
 * {@link dev.memlong.gateway.server.GatewayInitializer} (the pipeline, nothing else) and
 * {@link dev.memlong.gateway.server.HttpRouter} (plain HTTP routes, handed one request at a time by
 * {@link dev.memlong.gateway.server.HttpPipelining}).
 */
package dev.memlong.gateway.server;
