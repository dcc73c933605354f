/**
 * {@code /metrics}: the gateway's and the runtime's figures in Prometheus text format through Micrometer.
 * Runtime gauges come from {@link dev.memlong.gateway.backend.ChatBackend#stats()}, read once per scrape; per-reply
 * figures (time to first token, tokens/s, retrieval latency) come from each finished reply.
 */
package dev.memlong.gateway.metrics;
