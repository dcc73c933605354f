package dev.memlong.actors.scheduler;

import dev.memlong.actors.MemLongException;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.model.MemoryKv;
import dev.memlong.runtime.model.SequenceStep;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.SavedWindow;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One device: its model replica, its cache slots and a continuous-batching step loop. Runs on a pinned thread
 * (the device dispatcher), so every native call of the replica happens on one thread.
 *
 * <p>Each {@code Step} is at most two batched forwards, the decode tokens and then prompt pieces within the step's
 * token budget ({@link StepPlan}). A turn whose next piece needs retriever embeddings sits out until they were
 * embedded off this thread ({@link EmbeddingGate}, {@link Embedded}) while the rest of the batch keeps stepping. The
 * loop sends itself the next {@code Step}, so admissions, cancellations, releases, arriving embeddings and swaps
 * queued meanwhile are handled between steps. Beyond {@code maxBatch} running and {@code maxQueue} waiting turns, a
 * turn is refused at once.
 *
 * <p>{@link SwapWeights} swaps a published model version in between two steps (it is a message like {@code Step},
 * so it never runs inside one): every step runs on exactly one version. Turns in flight, those waiting for their
 * embeddings included, go on with the new weights from their next step; a window built (wholly or partly) by another
 * version is rebuilt from the turn log when its conversation's next turn arrives, so later turns never attend to
 * upper-layer K/V of another version. For the same reason a window saved at passivation is stamped with its version,
 * is not saved at all when mixed, and is put back only on a device serving that version ({@link SlotTable#enter}).
 *
 * <p>A step whose forward throws fails the turns in it ({@link MemLongException.Kind#DEVICE_FAILED}) and the
 * device goes on. A turn whose own logits cannot be sampled (NaN, every token masked) or detokenised fails alone: the
 * rest of the batch goes on and the step does not count as failed. After {@value #MAX_FAILED_STEPS} failed steps in
 * a row the device is taken to be broken and the
 * worker stops with the error, failing everything it holds, so its scheduler takes it out of service. A replica
 * that fails to load stops the worker the same way. Every turn that ends here is reported to the scheduler.
 */
public final class DeviceWorker extends AbstractBehavior<DeviceWorker.Command> {

    /** Messages of a device worker. */
    public sealed interface Command {}

    /** Runs a turn (or queues it, or refuses it as overloaded). */
    public record Admit(TurnRequest request) implements Command {}

    /** Cancels a turn: it leaves the batch (or the queue) now and its conversation's window is dropped. */
    public record Cancel(long requestId) implements Command {}

    /** Drops a conversation's window (passivation, restart, forget); cancels its running turn if any. */
    public record Release(ConversationKey key) implements Command {}

    /**
     * Passivation: replies with the conversation's window (null if this device holds none, a turn of it runs, or
     * another model version wrote part of it), tagged {@code modelTag} and the version serving now, then drops it.
     */
    public record SaveAndRelease(ConversationKey key, String modelTag, ActorRef<DeviceScheduler.WindowSaved> replyTo)
            implements Command {}

    /** Swaps a model version in (between two steps) and reports to the scheduler. */
    public record SwapWeights(long swapId, WeightVersion weights) implements Command {}

    private enum Step implements Command { INSTANCE }

    /** Texts a turn's next piece embeds, embedded on the embedding executor ({@code error} if that failed). */
    record Embedded(long requestId, List<String> texts, float[][] vectors, long nanos, Throwable error)
            implements Command {}

    /** Failed forward steps in a row after which the device is considered broken. */
    static final int MAX_FAILED_STEPS = 3;

    private final int index;
    private final String name;
    private final DeviceReplica replica;
    private final SlotTable slots;
    private final int maxBatch;
    private final int maxQueue;
    private final int stepTokenBudget;
    private final ActorRef<DeviceScheduler.Command> scheduler;
    private final SchedulerGauges gauges;
    private final EmbeddingGate embeddings;
    private final List<RunningTurn> running = new ArrayList<>();
    private final Deque<TurnRequest> waiting = new ArrayDeque<>();
    private boolean stepScheduled;
    private int rotation;
    private int reportedLoad = -1;
    private int failedSteps;
    private MemLongException broken;

    /**
     * @param name      the configured device name (for errors and logs)
     * @param replica   loads the model replica; called on the worker's own thread
     * @param embedding where the retriever embeds what a step needs, so this thread never waits for it; null to
     *                  embed on this thread, inside the step
     */
    public static Behavior<Command> create(int index, String name, Supplier<DeviceReplica> replica, int maxBatch,
                                           int maxQueue, int stepTokenBudget,
                                           ActorRef<DeviceScheduler.Command> scheduler, SchedulerGauges gauges,
                                           Executor embedding) {
        return Behaviors.setup(ctx -> {
            DeviceReplica loaded;
            try {
                loaded = replica.get();
            } catch (RuntimeException e) {
                ctx.getLog().error("device {} ({}): the model replica failed to load", index, name, e);
                throw e;
            }
            scheduler.tell(new DeviceScheduler.WorkerReady(index, loaded.version()));
            return new DeviceWorker(ctx, index, name, loaded, maxBatch, maxQueue, stepTokenBudget, scheduler, gauges,
                    embedding);
        });
    }

    private DeviceWorker(ActorContext<Command> ctx, int index, String name, DeviceReplica replica, int maxBatch,
                         int maxQueue, int stepTokenBudget, ActorRef<DeviceScheduler.Command> scheduler,
                         SchedulerGauges gauges, Executor embedding) {
        super(ctx);
        this.index = index;
        this.name = name;
        this.replica = replica;
        this.slots = new SlotTable(replica.engine(), replica.cache(), gauges);
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.stepTokenBudget = stepTokenBudget;
        this.scheduler = scheduler;
        this.gauges = gauges;
        this.embeddings = new EmbeddingGate(replica.prefetch(), embedding, gauges, ctx.getSelf()::tell);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Admit.class, this::onAdmit)
                .onMessage(Cancel.class, this::onCancel)
                .onMessage(Release.class, this::onRelease)
                .onMessage(SaveAndRelease.class, this::onSaveAndRelease)
                .onMessage(Embedded.class, this::onEmbedded)
                .onMessage(SwapWeights.class, this::onSwap)
                .onMessageEquals(Step.INSTANCE, this::onStep)
                .onSignal(PostStop.class, signal -> onStop())
                .build();
    }

    private Behavior<Command> onAdmit(Admit admit) {
        TurnRequest request = admit.request();
        if (running.size() < maxBatch && waiting.isEmpty()) {
            start(request);
        } else if (waiting.size() < maxQueue) {
            waiting.add(request);
        } else {
            end(request, new GenerationEvent.Failed(request.id(), new MemLongException(
                    MemLongException.Kind.OVERLOADED, "overloaded: device " + index + " runs " + running.size()
                    + " turns and queues " + waiting.size())));
        }
        scheduleStep();
        reportLoad();
        return this;
    }

    private Behavior<Command> onCancel(Cancel cancel) {
        waiting.removeIf(r -> {
            if (r.id() == cancel.requestId()) {
                end(r, cancelled(r));
                return true;
            }
            return false;
        });
        for (Iterator<RunningTurn> it = running.iterator(); it.hasNext(); ) {
            RunningTurn turn = it.next();
            if (turn.request().id() == cancel.requestId()) {
                it.remove();
                slots.release(turn.request().key()); // the window holds half a turn: rebuild it next time
                end(turn.request(), cancelled(turn.request()));
            }
        }
        reportLoad();
        return this;
    }

    private Behavior<Command> onRelease(Release release) {
        for (RunningTurn turn : List.copyOf(running)) {
            if (turn.request().key().equals(release.key())) {
                running.remove(turn);
                end(turn.request(), cancelled(turn.request()));
            }
        }
        slots.release(release.key());
        reportLoad();
        return this;
    }

    private Behavior<Command> onSaveAndRelease(SaveAndRelease save) {
        SavedWindow window = null;
        try {
            window = slots.save(save.key(), save.modelTag(), replica.version());
        } catch (RuntimeException e) {
            getContext().getLog().warn("device {}: the window of {} cannot be saved; it will be rebuilt", index,
                    save.key(), e);
        }
        save.replyTo().tell(new DeviceScheduler.WindowSaved(save.key(), window));
        return onRelease(new Release(save.key()));
    }

    /**
     * Runs between two steps, on the device's thread. A version that cannot be loaded leaves the replica serving
     * what it served (the swap reports the failure); the running turns are not disturbed either way.
     */
    private Behavior<Command> onSwap(SwapWeights swap) {
        long from = replica.version();
        try {
            replica.serve(swap.weights());
            getContext().getLog().info("device {} ({}): now serving model version {} (was {}); {} turn(s) go on with it",
                    index, name, swap.weights().version(), from, running.size());
            scheduler.tell(new DeviceScheduler.WorkerSwapped(index, swap.swapId(), replica.version(), null));
        } catch (RuntimeException e) {
            getContext().getLog().error("device {} ({}): model version {} could not be swapped in; still serving {}",
                    index, name, swap.weights().version(), from, e);
            scheduler.tell(new DeviceScheduler.WorkerSwapped(index, swap.swapId(), replica.version(), e));
        }
        return this;
    }

    private static GenerationEvent.Failed cancelled(TurnRequest r) {
        return new GenerationEvent.Failed(r.id(), new MemLongException(MemLongException.Kind.CANCELLED,
                "turn " + r.id() + " of " + r.key() + " was cancelled"));
    }

    /** Starts a turn; a device error on the way (claiming the slot) fails the turn like a failed step. */
    private void start(TurnRequest request) {
        try {
            admit(request);
        } catch (RuntimeException e) {
            running.removeIf(t -> t.request() == request);
            slots.release(request.key());
            deviceError(e, 1);
            end(request, new GenerationEvent.Failed(request.id(), deviceFailed(e)));
            checkBroken(e);
        }
    }

    private void admit(TurnRequest request) {
        SlotTable.Entry entry = slots.enter(request, replica.version());
        SlotTable.Resident resident = entry.resident();
        slots.touch(resident);
        resident.sequence.beginInput();
        RunningTurn turn = new RunningTurn(request, resident, entry.prompt(), index,
                replica.engine().model().config().vocabSize(), replica.engine().tokenizer());
        resident.current = turn;
        running.add(turn);
        request.replyTo().tell(new GenerationEvent.Admitted(request.id(), index));
    }

    private Behavior<Command> onStep() {
        stepScheduled = false;
        while (running.size() < maxBatch && !waiting.isEmpty()) {
            start(waiting.poll());
        }
        if (running.isEmpty()) {
            embeddings.idle();
            reportLoad();
            return this;
        }
        StepPlan plan = StepPlan.of(running, stepTokenBudget, rotation++, embeddings);
        int rows = plan.decoding().size();
        for (int[] piece : plan.prefillPieces()) {
            rows += piece.length;
        }
        if (!plan.decoding().isEmpty() && !plan.prefill().isEmpty()
                && replica.engine().model().forwardsInRows(rows)) {
            // one forward of one row per token (the Java path): a prompt piece rides along with the decode rows, and
            // the products read each weight once for both (measured, ~110M model, 16 conversations decoding while a
            // 4,000-token prompt is read 16 tokens a step: ~65 ms a step as one forward, ~71 ms as two; ~36 ms for
            // the decode rows alone)
            List<RunningTurn> turns = new ArrayList<>(plan.decoding());
            turns.addAll(plan.prefill());
            List<int[]> pieces = new ArrayList<>(plan.decodePieces());
            pieces.addAll(plan.prefillPieces());
            guardedForward(turns, pieces);
        } else {
            // Otherwise decode tokens and prompt pieces run as two forwards: on the tensor path every decode row would
            // be padded to the longest prompt piece, multiplying the decode work by the piece length.
            if (!plan.decoding().isEmpty()) {
                guardedForward(plan.decoding(), plan.decodePieces());
            }
            if (!plan.prefill().isEmpty()) {
                guardedForward(plan.prefill(), plan.prefillPieces());
            }
        }
        embeddings.stepDone(running);
        scheduleStep();
        reportLoad();
        return this;
    }

    /** A waiting turn's embeddings arrived (a turn that ended meanwhile is gone; its vectors are dropped). */
    private Behavior<Command> onEmbedded(Embedded embedded) {
        for (RunningTurn turn : running) {
            if (turn.request().id() == embedded.requestId()) {
                Throwable error = embeddings.arrived(turn, embedded);
                if (error != null) {
                    fail(turn, new MemLongException(MemLongException.Kind.DEVICE_FAILED, "device " + index
                            + ": the retriever failed: " + error.getMessage(), error));
                }
                break;
            }
        }
        scheduleStep();
        reportLoad();
        return this;
    }

    private void guardedForward(List<RunningTurn> batch, List<int[]> pieces) {
        try {
            forward(batch, pieces);
            failedSteps = 0;
        } catch (RuntimeException e) {
            deviceError(e, batch.size());
            MemLongException error = deviceFailed(e);
            for (RunningTurn turn : batch) {
                if (running.contains(turn)) {
                    fail(turn, error);
                }
            }
            checkBroken(e);
        }
    }

    /** One batched forward over {@code batch} (sorted by slot: slots 0..B-1 read the cache without a gather). */
    private void forward(List<RunningTurn> batch, List<int[]> pieces) {
        Integer[] order = new Integer[batch.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingInt(i -> batch.get(i).resident().slot()));
        List<SequenceStep> steps = new ArrayList<>(order.length);
        List<MemoryKv> memories = new ArrayList<>(order.length);
        for (int i : order) {
            MemLongSequence sequence = batch.get(i).resident().sequence;
            steps.add(sequence.prepare(pieces.get(i)));
            memories.add(sequence.memory());
        }
        long version = replica.version(); // the one version this forward runs on (swaps happen between steps)
        float[][][] logits = replica.engine().model().forward(replica.cache(), steps, false, memories);
        for (int k = 0; k < order.length; k++) {
            RunningTurn turn = batch.get(order[k]);
            turn.ranOn(version);
            turn.resident().wroteWith(version);
            int[] piece = pieces.get(order[k]);
            turn.resident().sequence.appended(piece);
            float[] row = poisonLogits != null && poisonLogits.test(turn.request()) ? poisoned(logits[k][0])
                    : logits[k][0];
            GenerationEvent.Finished finished;
            try {
                finished = turn.afterForward(piece, row) ? turn.finish() : null;
            } catch (RuntimeException e) {
                // Sampling or detokenising this one turn failed (e.g. NaN logits in its row): the forward itself
                // went through, so the rest of the batch goes on and the device is not counted as failing.
                getContext().getLog().warn("device {} ({}): turn {} of {} failed after the forward; the batch goes on",
                        index, name, turn.request().id(), turn.request().key(), e);
                fail(turn, new MemLongException(MemLongException.Kind.DEVICE_FAILED, "device " + index + " (" + name
                        + "): turn " + turn.request().id() + " could not take its next token: " + e.getMessage(), e));
                continue;
            }
            if (finished != null) {
                running.remove(turn);
                turn.resident().current = null;
                end(turn.request(), finished);
            }
        }
    }

    /**
     * Tests only: the turns whose logits are replaced by NaN after each forward, as a broken row would be (their
     * sampling then fails). Null in production.
     */
    static volatile java.util.function.Predicate<TurnRequest> poisonLogits;

    private static float[] poisoned(float[] row) {
        float[] nan = new float[row.length];
        java.util.Arrays.fill(nan, Float.NaN);
        return nan;
    }

    private void fail(RunningTurn turn, MemLongException error) {
        running.remove(turn);
        turn.resident().current = null;
        slots.release(turn.request().key());
        end(turn.request(), new GenerationEvent.Failed(turn.request().id(), error));
    }

    private void deviceError(RuntimeException e, int turns) {
        failedSteps++;
        getContext().getLog().error("device {} ({}): a step failed ({} in a row); failing its {} turn(s)", index,
                name, failedSteps, turns, e);
    }

    private MemLongException deviceFailed(RuntimeException e) {
        return new MemLongException(MemLongException.Kind.DEVICE_FAILED,
                "device " + index + " (" + name + ") failed: " + e.getMessage(), e);
    }

    /** After too many failed steps in a row, stops the worker (failing what it holds) by throwing. */
    private void checkBroken(RuntimeException last) {
        if (failedSteps >= MAX_FAILED_STEPS) {
            broken = deviceFailed(last);
            throw new IllegalStateException("device " + index + " (" + name + ") failed " + failedSteps
                    + " steps in a row: " + last.getMessage(), last);
        }
    }

    /** Sends a turn's last event and tells the scheduler the turn ended here. */
    private void end(TurnRequest request, GenerationEvent last) {
        request.replyTo().tell(last);
        scheduler.tell(new DeviceScheduler.TurnEnded(index, request.id()));
    }

    /** Steps go on while a turn can run or wait for admission; turns that only await embeddings do not spin. */
    private void scheduleStep() {
        boolean runnable = running.stream().anyMatch(t -> !t.awaitingEmbeddings())
                || (!waiting.isEmpty() && running.size() < maxBatch);
        if (!stepScheduled && runnable) {
            stepScheduled = true;
            getContext().getSelf().tell(Step.INSTANCE);
        }
    }

    private void reportLoad() {
        gauges.load(index, running.size(), waiting.size());
        int load = running.size() + waiting.size();
        if (load != reportedLoad) {
            reportedLoad = load;
            scheduler.tell(new DeviceScheduler.WorkerLoad(index, load));
        }
    }

    private Behavior<Command> onStop() {
        MemLongException stopping = broken != null ? broken
                : new MemLongException(MemLongException.Kind.SHUTTING_DOWN, "the runtime is shutting down");
        running.forEach(t -> end(t.request(), new GenerationEvent.Failed(t.request().id(), stopping)));
        waiting.forEach(r -> end(r, new GenerationEvent.Failed(r.id(), stopping)));
        running.clear();
        waiting.clear();
        gauges.load(index, 0, 0);
        replica.close();
        return this;
    }
}
