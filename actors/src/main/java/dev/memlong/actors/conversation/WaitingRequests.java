package dev.memlong.actors.conversation;

import dev.memlong.actors.MemLongException;
import dev.memlong.actors.conversation.ConversationActor.Command;
import dev.memlong.actors.conversation.ConversationActor.Forget;
import dev.memlong.actors.conversation.ConversationActor.GetHistory;
import dev.memlong.actors.conversation.ConversationActor.GetMemory;
import dev.memlong.actors.conversation.ConversationActor.Send;
import dev.memlong.actors.conversation.ConversationActor.SetTrainingOptOut;
import dev.memlong.actors.conversation.ConversationActor.Stop;
import dev.memlong.storage.ConversationKey;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.pattern.StatusReply;

/**
 * The requests a conversation keeps waiting (in its actor's stash) while it is busy, and the rules of that stash:
 * at most {@code maxPendingTurns} turns wait, and beyond that (or when the stash is full) a request is refused as
 * overloaded; one slot is kept for the registry's {@link Stop}; a waiting turn can be cancelled, which answers its
 * caller at once and skips the turn when it comes up.
 *
 * <p>Touched only on the actor's thread: Pekko allows a {@link StashBuffer} only there, so nothing here may run on
 * the blocking pool or in a future's callback.
 */
final class WaitingRequests {

    /** Stash slots requests never take, so that the registry's {@link Stop} always fits. */
    private static final int CONTROL_ROOM = 1;

    private final StashBuffer<Command> stash;
    private final ConversationKey key;
    private final int maxPendingTurns;
    /** Turns cancelled while waiting in the stash: their callers were answered, they are skipped when they come up. */
    private final Set<Long> cancelledWaiting = new HashSet<>();

    WaitingRequests(StashBuffer<Command> stash, ConversationKey key, int maxPendingTurns) {
        this.stash = stash;
        this.key = key;
        this.maxPendingTurns = maxPendingTurns;
    }

    /** The stash capacity of a conversation that lets {@code maxPendingTurns} turns wait. */
    static int stashCapacity(int maxPendingTurns) {
        return Math.max(1, maxPendingTurns) + 8 + CONTROL_ROOM;
    }

    /** Keeps the registry's {@link Stop} until the actor is free to stop. */
    void keepStop(Stop stop) {
        stash.stash(stop); // requests leave CONTROL_ROOM free, and the registry sends Stop once
    }

    /** A request waits, or is refused when the stash is full or {@code maxPendingTurns} turns wait already. */
    void waitOrRefuse(Command request) {
        if (stash.size() >= stash.capacity() - CONTROL_ROOM
                || (request instanceof Send && pendingSends() >= maxPendingTurns)) {
            refuse(request, new MemLongException(MemLongException.Kind.OVERLOADED, "overloaded: conversation "
                    + key + " has " + maxPendingTurns + " messages waiting"));
        } else {
            stash.stash(request);
        }
    }

    /** Sends waiting in the stash, but those already answered as cancelled (they only wait to be skipped). */
    private int pendingSends() {
        int[] n = {0};
        stash.forEach(c -> n[0] += c instanceof Send s && !cancelledWaiting.contains(s.turnId()) ? 1 : 0);
        return n[0];
    }

    /** Cancels the turn {@code turnId} if it waits in the stash: its caller is answered now, the turn never runs. */
    void cancel(long turnId) {
        stash.forEach(c -> {
            if (c instanceof Send s && s.turnId() == turnId && cancelledWaiting.add(turnId)) {
                s.replyTo().tell(new TurnEvent.Error(turnId, new MemLongException(MemLongException.Kind.CANCELLED,
                        "turn " + turnId + " was cancelled before it ran")));
            }
        });
    }

    /**
     * Whether {@code send} was cancelled while it waited (its caller already has the error, so it is skipped). Asked
     * once, when the turn comes up.
     */
    boolean skipCancelled(Send send) {
        return cancelledWaiting.remove(send.turnId());
    }

    /** Hands every waiting message, in order, to {@code next}. */
    Behavior<Command> unstashAll(Behavior<Command> next) {
        return stash.unstashAll(next);
    }

    /** Answers every request in the stash (but turns already answered as cancelled) with {@code error}. */
    void refuseAll(MemLongException error) {
        stash.forEach(c -> {
            if (!(c instanceof Send s && cancelledWaiting.contains(s.turnId()))) {
                refuse(c, error);
            }
        });
        stash.clear();
        cancelledWaiting.clear();
    }

    /** Answers a request that will not be processed with {@code error}. */
    static void refuse(Command command, MemLongException error) {
        switch (command) {
            case Send s -> s.replyTo().tell(new TurnEvent.Error(s.turnId(), error));
            case GetHistory q -> q.replyTo().tell(StatusReply.error(error));
            case GetMemory q -> q.replyTo().tell(StatusReply.error(error));
            case Forget q -> q.replyTo().tell(StatusReply.error(error));
            case SetTrainingOptOut q -> q.replyTo().tell(StatusReply.error(error));
            default -> { }
        }
    }
}
