/**
 * Conversation actors and their registry: loading from storage, prompt rendering, turn ordering, atomic turn
 * commits (messages plus the memory chunks the turn produced), passivation and restart from storage.
 */
package dev.memlong.actors.conversation;
