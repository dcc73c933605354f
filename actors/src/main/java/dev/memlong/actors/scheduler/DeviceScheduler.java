package dev.memlong.actors.scheduler;

import dev.memlong.actors.RuntimeSettings;
import dev.memlong.storage.ConversationKey;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The scheduler over every configured device: one {@link DeviceWorker} per device, each on its own pinned thread.
 * A conversation whose window lives on a device keeps going there (sticky); a conversation without one goes to
 * the least loaded device (running plus queued turns). Only routes; the workers batch, queue and refuse.
 */
public final class DeviceScheduler extends AbstractBehavior<DeviceScheduler.Command> {

    /** Messages of the scheduler. */
    public sealed interface Command {}

    /**
     * Routes a turn.
     *
     * @param preferredDevice the device holding the conversation's window, or -1
     */
    public record Submit(TurnRequest request, int preferredDevice) implements Command {}

    /** Cancels a turn wherever it is. */
    public record Cancel(long requestId) implements Command {}

    /** Drops a conversation's window on a device (or on every device for -1). */
    public record Release(ConversationKey key, int device) implements Command {}

    /** A worker's running plus queued turns. */
    record WorkerLoad(int device, int load) implements Command {}

    private final List<ActorRef<DeviceWorker.Command>> workers = new ArrayList<>();
    private final int[] load;

    /**
     * @param replicas one replica loader per device (called on that device's thread)
     */
    public static Behavior<Command> create(List<Supplier<DeviceReplica>> replicas, int maxBatch, int maxQueue,
                                           int stepTokenBudget) {
        return Behaviors.setup(ctx -> new DeviceScheduler(ctx, replicas, maxBatch, maxQueue, stepTokenBudget));
    }

    private DeviceScheduler(ActorContext<Command> ctx, List<Supplier<DeviceReplica>> replicas, int maxBatch,
                            int maxQueue, int stepTokenBudget) {
        super(ctx);
        this.load = new int[replicas.size()];
        for (int i = 0; i < replicas.size(); i++) {
            workers.add(ctx.spawn(DeviceWorker.create(i, replicas.get(i), maxBatch, maxQueue, stepTokenBudget,
                            ctx.getSelf()), "device-" + i,
                    DispatcherSelector.fromConfig(RuntimeSettings.DEVICE_DISPATCHER)));
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Submit.class, this::onSubmit)
                .onMessage(Cancel.class, this::onCancel)
                .onMessage(Release.class, this::onRelease)
                .onMessage(WorkerLoad.class, this::onLoad)
                .build();
    }

    private Behavior<Command> onSubmit(Submit submit) {
        int device = submit.preferredDevice();
        if (device < 0 || device >= workers.size()) {
            device = 0;
            for (int i = 1; i < load.length; i++) {
                if (load[i] < load[device]) {
                    device = i;
                }
            }
        }
        load[device]++; // until the worker reports
        workers.get(device).tell(new DeviceWorker.Admit(submit.request()));
        return this;
    }

    private Behavior<Command> onCancel(Cancel cancel) {
        workers.forEach(w -> w.tell(new DeviceWorker.Cancel(cancel.requestId())));
        return this;
    }

    private Behavior<Command> onRelease(Release release) {
        for (int i = 0; i < workers.size(); i++) {
            if (release.device() < 0 || release.device() == i) {
                workers.get(i).tell(new DeviceWorker.Release(release.key()));
            }
        }
        return this;
    }

    private Behavior<Command> onLoad(WorkerLoad report) {
        load[report.device()] = report.load();
        return this;
    }
}
