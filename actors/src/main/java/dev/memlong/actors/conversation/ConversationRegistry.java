package dev.memlong.actors.conversation;

import dev.memlong.actors.ActorSettings;
import dev.memlong.storage.ConversationKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Parent of the conversation actors of a node: starts one on the first message for a conversation and routes
 * every message to it. Passivation follows Pekko sharding's handshake: an idle conversation asks to passivate,
 * the registry sends it {@link ConversationActor.Stop} and buffers that conversation's new messages until it has
 * stopped, then starts a fresh actor for them (which restores the conversation from storage).
 */
public final class ConversationRegistry extends AbstractBehavior<ConversationRegistry.Command> {

    /** Messages of the registry. */
    public sealed interface Command {}

    /** A message for a conversation. */
    public record Deliver(ConversationKey key, ConversationActor.Command message) implements Command {}

    /** From an idle conversation actor. */
    public record Passivate(ConversationKey key, ActorRef<ConversationActor.Command> child) implements Command {}

    /** How many conversation actors are alive (for tests and metrics). */
    public record CountActive(ActorRef<Integer> replyTo) implements Command {}

    private record ChildStopped(ConversationKey key, ActorRef<ConversationActor.Command> child) implements Command {}

    private final ConversationServices services;
    private final Map<ConversationKey, ActorRef<ConversationActor.Command>> children = new HashMap<>();
    private final Map<ConversationKey, List<ConversationActor.Command>> passivating = new HashMap<>();
    private long spawned;

    public static Behavior<Command> create(ConversationServices services) {
        return Behaviors.setup(ctx -> new ConversationRegistry(ctx, services));
    }

    private ConversationRegistry(ActorContext<Command> ctx, ConversationServices services) {
        super(ctx);
        this.services = services;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Deliver.class, this::onDeliver)
                .onMessage(Passivate.class, this::onPassivate)
                .onMessage(ChildStopped.class, this::onChildStopped)
                .onMessage(CountActive.class, this::onCount)
                .build();
    }

    private Behavior<Command> onDeliver(Deliver deliver) {
        List<ConversationActor.Command> buffer = passivating.get(deliver.key());
        if (buffer != null) {
            buffer.add(deliver.message());
        } else {
            children.computeIfAbsent(deliver.key(), this::spawn).tell(deliver.message());
        }
        return this;
    }

    private ActorRef<ConversationActor.Command> spawn(ConversationKey key) {
        ActorRef<ConversationActor.Command> child = getContext().spawn(
                ConversationActor.create(key, services, getContext().getSelf()), "conversation-" + (++spawned),
                DispatcherSelector.fromConfig(ActorSettings.CONVERSATION_DISPATCHER));
        getContext().watchWith(child, new ChildStopped(key, child));
        return child;
    }

    private Behavior<Command> onPassivate(Passivate passivate) {
        if (passivate.child().equals(children.get(passivate.key())) && !passivating.containsKey(passivate.key())) {
            passivating.put(passivate.key(), new ArrayList<>());
            passivate.child().tell(ConversationActor.Stop.INSTANCE);
        }
        return this;
    }

    private Behavior<Command> onChildStopped(ChildStopped stopped) {
        if (stopped.child().equals(children.get(stopped.key()))) {
            children.remove(stopped.key());
        }
        List<ConversationActor.Command> buffered = passivating.remove(stopped.key());
        if (buffered != null && !buffered.isEmpty()) {
            ActorRef<ConversationActor.Command> child = children.computeIfAbsent(stopped.key(), this::spawn);
            buffered.forEach(child::tell);
        }
        return this;
    }

    private Behavior<Command> onCount(CountActive count) {
        count.replyTo().tell(children.size());
        return this;
    }
}
