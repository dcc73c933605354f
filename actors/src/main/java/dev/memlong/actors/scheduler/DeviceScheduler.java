package dev.memlong.actors.scheduler;

import dev.memlong.actors.ActorSettings;
import dev.memlong.actors.MemLongException;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.SavedWindow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorInitializationException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The scheduler over every configured device: one {@link DeviceWorker} per device, each on its own pinned thread.
 * A conversation whose window lives on a device keeps going there (sticky); a conversation without one goes to
 * the least loaded live device (running plus queued turns). Routes, and watches the workers; the workers batch,
 * queue and refuse.
 *
 * <p>A worker that stops (its replica failed to load, or its steps kept failing) is taken out of service: the
 * turns routed to it that had not ended get {@link MemLongException.Kind#DEVICE_FAILED} (the worker's own mailbox
 * is gone, so nothing else would answer them), and later turns go to the other devices, or are refused at once
 * with {@code DEVICE_FAILED} naming the cause when none is left. {@code loaded} completes once every worker has
 * loaded or failed.
 *
 * <p>{@link SwapWeights} swaps a published model version into every live device (each between two of its steps)
 * and answers once each has swapped or failed to; a device that becomes ready later gets the newest version too.
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

    /** Swaps a model version into every live device; {@code replyTo} hears once every one has swapped or failed. */
    public record SwapWeights(WeightVersion weights, ActorRef<SwapResult> replyTo) implements Command {}

    /**
     * How a swap went.
     *
     * @param version  the version swapped in
     * @param swapped  devices that serve it now
     * @param failures per device that did not swap (it serves what it served), why
     */
    public record SwapResult(long version, List<Integer> swapped, Map<Integer, String> failures) {}

    /**
     * Passivation of a conversation whose window is on {@code device}: replies {@link WindowSaved} (with a null
     * window when the device holds none or is out of service) and drops the window.
     */
    public record SaveAndRelease(ConversationKey key, int device, String modelTag, ActorRef<WindowSaved> replyTo)
            implements Command {}

    /** The answer to {@link SaveAndRelease}. */
    public record WindowSaved(ConversationKey key, SavedWindow window) {}

    /** A worker's running plus queued turns. */
    record WorkerLoad(int device, int load) implements Command {}

    /** A worker loaded its replica (serving {@code version}) and takes turns. */
    record WorkerReady(int device, long version) implements Command {}

    /** A worker's answer to a swap: it serves {@code version} now; {@code failure} is why it did not swap, or null. */
    record WorkerSwapped(int device, long swapId, long version, Throwable failure) implements Command {}

    /** A turn routed to a worker ended there (finished, failed, cancelled or refused). */
    record TurnEnded(int device, long requestId) implements Command {}

    /**
     * How a device's start went.
     *
     * @param name    the configured device name
     * @param failure why its replica did not load, or null
     */
    public record DeviceStatus(int device, String name, Throwable failure) {}

    private enum State { LOADING, READY, FAILED }

    private final List<ActorRef<DeviceWorker.Command>> workers = new ArrayList<>();
    private final List<String> names;
    private final State[] state;
    private final Throwable[] failures;
    private final int[] load;
    private final Map<Long, Routed> routed = new HashMap<>();
    private final CompletableFuture<List<DeviceStatus>> loaded;

    private record Routed(int device, TurnRequest request) {}

    /** A swap waiting for devices' answers. */
    private static final class PendingSwap {
        final WeightVersion weights;
        final ActorRef<SwapResult> replyTo;
        final java.util.Set<Integer> waiting = new java.util.TreeSet<>();
        final List<Integer> swapped = new ArrayList<>();
        final Map<Integer, String> failures = new java.util.TreeMap<>();

        PendingSwap(WeightVersion weights, ActorRef<SwapResult> replyTo) {
            this.weights = weights;
            this.replyTo = replyTo;
        }
    }

    private final Map<Long, PendingSwap> swaps = new HashMap<>();
    private long nextSwapId;
    /** The newest version asked for; null until the first swap (the devices load the serving one themselves). */
    private WeightVersion newest;

    /**
     * @param names    the device names (for errors and logs), aligned with {@code replicas}
     * @param replicas one replica loader per device (called on that device's thread)
     * @param loaded   completed once every device has loaded or failed
     * @param gauges    where the workers report their batch, queue and retrievals (one entry per device)
     * @param embedding where the workers have the retriever embed, off their own threads (null: on them)
     */
    public static Behavior<Command> create(List<String> names, List<Supplier<DeviceReplica>> replicas, int maxBatch,
                                           int maxQueue, int stepTokenBudget,
                                           CompletableFuture<List<DeviceStatus>> loaded, SchedulerGauges gauges,
                                           Executor embedding) {
        if (names.size() != replicas.size()) {
            throw new IllegalArgumentException(names.size() + " names for " + replicas.size() + " devices");
        }
        return Behaviors.setup(ctx -> new DeviceScheduler(ctx, names, replicas, maxBatch, maxQueue, stepTokenBudget,
                loaded, gauges, embedding));
    }

    private DeviceScheduler(ActorContext<Command> ctx, List<String> names, List<Supplier<DeviceReplica>> replicas,
                            int maxBatch, int maxQueue, int stepTokenBudget,
                            CompletableFuture<List<DeviceStatus>> loaded, SchedulerGauges gauges,
                            Executor embedding) {
        super(ctx);
        this.names = List.copyOf(names);
        this.state = new State[replicas.size()];
        this.failures = new Throwable[replicas.size()];
        this.load = new int[replicas.size()];
        this.loaded = loaded;
        for (int i = 0; i < replicas.size(); i++) {
            state[i] = State.LOADING;
            ActorRef<DeviceWorker.Command> worker = ctx.spawn(DeviceWorker.create(i, names.get(i), replicas.get(i),
                            maxBatch, maxQueue, stepTokenBudget, ctx.getSelf(), gauges, embedding), "device-" + i,
                    DispatcherSelector.fromConfig(ActorSettings.DEVICE_DISPATCHER));
            ctx.watch(worker);
            workers.add(worker);
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Submit.class, this::onSubmit)
                .onMessage(Cancel.class, this::onCancel)
                .onMessage(Release.class, this::onRelease)
                .onMessage(SaveAndRelease.class, this::onSaveAndRelease)
                .onMessage(WorkerLoad.class, this::onLoad)
                .onMessage(WorkerReady.class, this::onReady)
                .onMessage(TurnEnded.class, this::onTurnEnded)
                .onMessage(SwapWeights.class, this::onSwap)
                .onMessage(WorkerSwapped.class, this::onSwapped)
                .onSignal(ChildFailed.class, this::onWorkerFailed)
                .onSignal(Terminated.class, this::onWorkerStopped)
                .build();
    }

    private Behavior<Command> onSubmit(Submit submit) {
        TurnRequest request = submit.request();
        int device = submit.preferredDevice();
        if (device < 0 || device >= workers.size() || state[device] == State.FAILED) {
            device = leastLoaded();
        }
        if (device < 0) {
            request.replyTo().tell(new GenerationEvent.Failed(request.id(), noDevice()));
            return this;
        }
        load[device]++; // until the worker reports
        routed.put(request.id(), new Routed(device, request));
        workers.get(device).tell(new DeviceWorker.Admit(request));
        return this;
    }

    /** The live device with the fewest turns, or -1 if every device failed. */
    private int leastLoaded() {
        int best = -1;
        for (int i = 0; i < workers.size(); i++) {
            if (state[i] != State.FAILED && (best < 0 || load[i] < load[best])) {
                best = i;
            }
        }
        return best;
    }

    private MemLongException noDevice() {
        StringBuilder why = new StringBuilder("no device can run turns:");
        for (int i = 0; i < workers.size(); i++) {
            why.append(" device ").append(i).append(" (").append(names.get(i)).append(") failed: ")
                    .append(message(failures[i])).append(i + 1 < workers.size() ? ";" : "");
        }
        return new MemLongException(MemLongException.Kind.DEVICE_FAILED, why.toString(), failures[0]);
    }

    private Behavior<Command> onCancel(Cancel cancel) {
        Routed r = routed.get(cancel.requestId());
        if (r != null) {
            workers.get(r.device()).tell(new DeviceWorker.Cancel(cancel.requestId()));
        }
        return this;
    }

    private Behavior<Command> onRelease(Release release) {
        for (int i = 0; i < workers.size(); i++) {
            if (state[i] != State.FAILED && (release.device() < 0 || release.device() == i)) {
                workers.get(i).tell(new DeviceWorker.Release(release.key()));
            }
        }
        return this;
    }

    private Behavior<Command> onSaveAndRelease(SaveAndRelease save) {
        int device = save.device();
        if (device < 0 || device >= workers.size() || state[device] != State.READY) {
            save.replyTo().tell(new WindowSaved(save.key(), null));
            return onRelease(new Release(save.key(), -1));
        }
        workers.get(device).tell(new DeviceWorker.SaveAndRelease(save.key(), save.modelTag(), save.replyTo()));
        return this;
    }

    private Behavior<Command> onLoad(WorkerLoad report) {
        load[report.device()] = report.load();
        return this;
    }

    private Behavior<Command> onReady(WorkerReady ready) {
        state[ready.device()] = State.READY;
        if (newest != null && newest.version() != ready.version()) {
            // it loaded while a swap went out: bring it to the newest version before its first turn
            workers.get(ready.device()).tell(new DeviceWorker.SwapWeights(nextSwapId++, newest));
        }
        completeLoadedIfSettled();
        return this;
    }

    private Behavior<Command> onSwap(SwapWeights swap) {
        newest = swap.weights();
        long id = nextSwapId++;
        PendingSwap pending = new PendingSwap(swap.weights(), swap.replyTo());
        for (int i = 0; i < workers.size(); i++) {
            if (state[i] == State.READY) {
                pending.waiting.add(i);
                workers.get(i).tell(new DeviceWorker.SwapWeights(id, swap.weights()));
            }
        }
        swaps.put(id, pending);
        completeSwapIfAnswered(id);
        return this;
    }

    private Behavior<Command> onSwapped(WorkerSwapped answer) {
        PendingSwap pending = swaps.get(answer.swapId());
        if (pending != null && pending.waiting.remove(answer.device())) {
            if (answer.failure() == null) {
                pending.swapped.add(answer.device());
            } else {
                pending.failures.put(answer.device(), message(answer.failure()));
            }
            completeSwapIfAnswered(answer.swapId());
        }
        return this;
    }

    private void completeSwapIfAnswered(long id) {
        PendingSwap pending = swaps.get(id);
        if (pending != null && pending.waiting.isEmpty()) {
            swaps.remove(id);
            pending.replyTo.tell(new SwapResult(pending.weights.version(), List.copyOf(pending.swapped),
                    Map.copyOf(pending.failures)));
        }
    }

    private Behavior<Command> onTurnEnded(TurnEnded ended) {
        routed.remove(ended.requestId());
        return this;
    }

    private Behavior<Command> onWorkerFailed(ChildFailed failed) {
        Throwable cause = failed.getCause();
        while (cause instanceof ActorInitializationException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        takeOutOfService(indexOf(failed.getRef()), cause);
        return this;
    }

    private Behavior<Command> onWorkerStopped(Terminated stopped) {
        takeOutOfService(indexOf(stopped.getRef()), new IllegalStateException("the device worker stopped"));
        return this;
    }

    private int indexOf(ActorRef<Void> ref) {
        for (int i = 0; i < workers.size(); i++) {
            if (workers.get(i).equals(ref)) {
                return i;
            }
        }
        throw new IllegalStateException("not a worker of this scheduler: " + ref);
    }

    private void takeOutOfService(int device, Throwable cause) {
        boolean wasLoading = state[device] == State.LOADING;
        state[device] = State.FAILED;
        failures[device] = cause;
        getContext().getLog().error("device {} ({}) is out of service{}", device, names.get(device),
                wasLoading ? ": its model replica failed to load" : "", cause);
        MemLongException error = new MemLongException(MemLongException.Kind.DEVICE_FAILED,
                "device " + device + " (" + names.get(device) + ") failed: " + message(cause), cause);
        for (Iterator<Routed> it = routed.values().iterator(); it.hasNext(); ) {
            Routed r = it.next();
            if (r.device() == device) {
                it.remove();
                r.request().replyTo().tell(new GenerationEvent.Failed(r.request().id(), error));
            }
        }
        load[device] = 0;
        for (Long id : List.copyOf(swaps.keySet())) {
            PendingSwap pending = swaps.get(id);
            if (pending.waiting.remove(device)) {
                pending.failures.put(device, "out of service: " + message(cause));
                completeSwapIfAnswered(id);
            }
        }
        completeLoadedIfSettled();
    }

    private void completeLoadedIfSettled() {
        List<DeviceStatus> statuses = new ArrayList<>();
        for (int i = 0; i < workers.size(); i++) {
            if (state[i] == State.LOADING) {
                return;
            }
            statuses.add(new DeviceStatus(i, names.get(i), failures[i]));
        }
        loaded.complete(statuses);
    }

    private static String message(Throwable t) {
        if (t == null) {
            return "unknown";
        }
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }
}
