/**
 * {@link dev.memlong.gateway.backend.echo.EchoBackend}: a deterministic {@code ChatBackend} without a model. It
 * echoes the user's words as tokens with a configurable delay, keeps each conversation's dialogue and memory in
 * RAM, retrieves memory chunks by shared words, and fails on request. The gateway's tests run against it, and it
 * lets the gateway (and its benchmark) run without a model.
 */
package dev.memlong.gateway.backend.echo;
