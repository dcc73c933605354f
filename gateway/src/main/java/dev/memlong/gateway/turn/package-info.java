/**
 * Bridging a backend turn ({@code Flow.Publisher<ChatEvent>}) onto a Netty channel: every signal is moved to the
 * channel's event loop, demand follows the channel's writability (a slow client slows its own turn, never the
 * server's memory), and a turn ends exactly once (done, failed, cancelled, or the channel closed).
 */
package dev.memlong.gateway.turn;
