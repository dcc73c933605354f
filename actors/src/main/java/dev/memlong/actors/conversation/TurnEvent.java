package dev.memlong.actors.conversation;

import dev.memlong.actors.MemLongException;
import dev.memlong.actors.Reply;

/** What the caller of a turn receives: deltas, then exactly one of {@link Done} or {@link Error}. */
public sealed interface TurnEvent {

    /** New reply text ({@code tokenId} -1 for text flushed at the end). */
    record Delta(long turnId, String text, int tokenId) implements TurnEvent {}

    /** The reply, durably committed. */
    record Done(long turnId, Reply reply) implements TurnEvent {}

    /** The turn failed; nothing of it was committed. */
    record Error(long turnId, MemLongException error) implements TurnEvent {}
}
