/**
 * The chat server ({@link dev.memlong.server.ChatServer}): the embeddable runtime behind the gateway, started and
 * stopped as one. This module is the only place that depends on both {@code actors} and {@code gateway}.
 */
package dev.memlong.server;
