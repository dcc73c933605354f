package dev.memlong.actors;

import dev.memlong.actors.conversation.TurnEvent;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** A short-lived actor per API call: receives a turn's events and hands them to the caller's future or stream. */
final class TurnSink {

    private TurnSink() {}

    static Behavior<TurnEvent> create(Consumer<TurnEvent> handler) {
        return Behaviors.receive(TurnEvent.class)
                .onMessage(TurnEvent.class, event -> {
                    handler.accept(event);
                    return event instanceof TurnEvent.Delta ? Behaviors.same() : Behaviors.stopped();
                })
                .build();
    }
}
