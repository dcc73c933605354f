/**
 * The web chat page at {@code /}: static files shipped inside the jar (no build step), served from memory. The
 * page talks to {@code /ws} in Protobuf canonical JSON, streams replies, shows the memory chunks each reply used,
 * and lists and forgets the conversation's memory.
 */
package dev.memlong.gateway.web;
