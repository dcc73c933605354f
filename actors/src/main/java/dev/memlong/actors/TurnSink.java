package dev.memlong.actors;

import dev.memlong.actors.conversation.TurnEvent;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A short-lived actor per API call: receives a turn's events and hands them to the caller's future or stream. It
 * stops after the turn's answer (its reply or error); stopped before one (the runtime closing while the turn's last
 * message was lost on the way), it answers the caller itself with {@code SHUTTING_DOWN}, so no caller waits forever.
 */
final class TurnSink {

    private TurnSink() {}

    static Behavior<TurnEvent> create(long turnId, Consumer<TurnEvent> handler) {
        boolean[] answered = {false}; // only this actor's thread touches it
        return Behaviors.receive(TurnEvent.class)
                .onMessage(TurnEvent.class, event -> {
                    if (answered[0]) {
                        return Behaviors.stopped(); // after close()'s own answer (below), a late one is dropped
                    }
                    handler.accept(event);
                    if (event instanceof TurnEvent.Delta) {
                        return Behaviors.same();
                    }
                    answered[0] = true;
                    return Behaviors.stopped();
                })
                .onSignal(PostStop.class, stop -> {
                    if (!answered[0]) {
                        answered[0] = true;
                        handler.accept(unanswered(turnId));
                    }
                    return Behaviors.same();
                })
                .build();
    }

    /** The answer of a turn the runtime closed on without its reply or error. */
    static TurnEvent.Error unanswered(long turnId) {
        return new TurnEvent.Error(turnId, new MemLongException(MemLongException.Kind.SHUTTING_DOWN,
                "the runtime closed before turn " + turnId + " was answered"));
    }
}
