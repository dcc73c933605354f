package dev.memlong.actors;

import dev.memlong.actors.conversation.ConversationRegistry;
import dev.memlong.actors.conversation.ConversationServices;
import dev.memlong.actors.scheduler.DeviceReplica;
import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.actors.scheduler.SchedulerGauges;
import dev.memlong.actors.trainer.TrainerActor;
import dev.memlong.actors.trainer.TrainerContext;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The runtime's root actor: starts the device scheduler, the trainer and the conversation registry, stops them on
 * shutdown.
 */
final class RuntimeGuardian {

    /** Stops the runtime's actors (children first). */
    enum Shutdown { INSTANCE }

    /** What the runtime talks to; {@code stopped} completes when every actor of the runtime has stopped. */
    record Refs(ActorRef<Shutdown> guardian, ActorRef<DeviceScheduler.Command> scheduler,
                ActorRef<TrainerActor.Command> trainer, ActorRef<ConversationRegistry.Command> registry,
                CompletableFuture<Void> stopped) {}

    /** Builds what conversations share, once the scheduler and the trainer exist. */
    interface ServicesFactory {
        ConversationServices create(ActorRef<DeviceScheduler.Command> scheduler, ActorRef<TrainerActor.Command> trainer,
                                    Executor blocking);
    }

    record Setup(List<Supplier<DeviceReplica>> replicas, ActorSettings settings, SchedulerGauges gauges,
                 Function<ActorRef<DeviceScheduler.Command>, TrainerContext> trainer, ServicesFactory services,
                 CompletableFuture<Refs> started, CompletableFuture<List<DeviceScheduler.DeviceStatus>> loaded) {}

    private RuntimeGuardian() {}

    static Behavior<Shutdown> create(Setup setup) {
        return Behaviors.setup(ctx -> {
            ActorSettings s = setup.settings();
            Executor embedding = s.asyncEmbedding() ? ctx.getSystem().dispatchers()
                    .lookup(DispatcherSelector.fromConfig(ActorSettings.EMBEDDING_DISPATCHER)) : null;
            ActorRef<DeviceScheduler.Command> scheduler = ctx.spawn(
                    DeviceScheduler.create(s.devices(), setup.replicas(), s.maxBatch(), s.maxQueue(),
                            s.stepTokenBudget(), setup.loaded(), setup.gauges(), embedding), "scheduler");
            Executor blocking = ctx.getSystem().dispatchers()
                    .lookup(DispatcherSelector.fromConfig(ActorSettings.BLOCKING_DISPATCHER));
            // its own thread trains; the actor itself only coordinates, and blocks briefly when it stops
            ActorRef<TrainerActor.Command> trainer = ctx.spawn(TrainerActor.create(setup.trainer().apply(scheduler)),
                    "trainer", DispatcherSelector.fromConfig(ActorSettings.BLOCKING_DISPATCHER));
            ActorRef<ConversationRegistry.Command> registry = ctx.spawn(
                    ConversationRegistry.create(setup.services().create(scheduler, trainer, blocking)),
                    "conversations");
            CompletableFuture<Void> stopped = new CompletableFuture<>();
            setup.started().complete(new Refs(ctx.getSelf(), scheduler, trainer, registry, stopped));
            return Behaviors.receive(Shutdown.class)
                    .onMessageEquals(Shutdown.INSTANCE, Behaviors::stopped)
                    .onSignal(PostStop.class, signal -> {
                        stopped.complete(null);
                        return Behaviors.same();
                    })
                    .build();
        });
    }
}
