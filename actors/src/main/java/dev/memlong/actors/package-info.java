/**
 * The embeddable API of the MemLong runtime: {@link dev.memlong.actors.MemLongRuntime} (start, conversations,
 * close), {@link dev.memlong.actors.Conversation} (send, stream, history, memory, forget), and the records a turn
 * returns ({@link dev.memlong.actors.Reply}, {@link dev.memlong.actors.StreamEvent}).
 */
package dev.memlong.actors;
