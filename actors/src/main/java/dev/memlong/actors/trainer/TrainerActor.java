package dev.memlong.actors.trainer;

import dev.memlong.actors.MemLongException;
import dev.memlong.actors.RoundReport;
import dev.memlong.actors.RoundReport.Outcome;
import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.actors.scheduler.WeightVersion;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.storage.ModelVersion;
import dev.memlong.storage.TrainedRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer: runs training rounds on its own thread while the devices keep serving, publishes the versions that
 * pass the held-out gate and swaps them into every device; rolls back to earlier versions.
 *
 * <p>A round starts when {@code every-tokens} of dialogue were committed since the last round, when {@code every}
 * passed since it (both only with {@code automatic = on}), or on demand ({@link TrainNow}). One round runs at a
 * time; requests arriving meanwhile get the next round. Phases: idle, training (the round runs on the trainer
 * thread), swapping (a published version goes to the devices; if a device cannot load it, the previous version is
 * restored in the store and on the devices, and the round counts as failed), storing (a rollback's serving pointer
 * is written). A rollback that arrives while a round trains cancels the round and waits for it to stop.
 *
 * <p>A round's failure (an exception, a non-finite loss) is logged and reported; the serving version stays and the
 * actor goes on. The trainer thread runs with {@code threads} PyTorch intra-op threads and pauses to keep its
 * {@code duty-cycle}.
 */
public final class TrainerActor extends AbstractBehavior<TrainerActor.Command> {

    /** Messages of the trainer. */
    public sealed interface Command {}

    /** Runs a round now (or after the running one); {@code replyTo} gets its report. */
    public record TrainNow(ActorRef<RoundReport> replyTo) implements Command {}

    /** A conversation committed {@code tokens} of new dialogue. */
    public record DialogueCommitted(long tokens) implements Command {}

    /** Makes {@code version} (0: the base model) the serving version on every device; replies with it. */
    public record Rollback(long version, ActorRef<StatusReply<Long>> replyTo) implements Command {}

    private enum Tick implements Command { INSTANCE }

    private record RoundEnded(TrainingRound.Result result) implements Command {}

    private record Swapped(DeviceScheduler.SwapResult result) implements Command {}

    private record Stored(WeightVersion weights, Throwable error) implements Command {}

    private enum Phase { IDLE, TRAINING, SWAPPING, STORING }

    /** For code on the trainer thread, which must not touch the ActorContext (its logger included). */
    private static final Logger LOG = LoggerFactory.getLogger(TrainerActor.class);

    private final TrainerContext ctx;
    private final StashBuffer<Command> stash;
    private final TimerScheduler<Command> timers;
    private final ExecutorService thread;
    private final ActorRef<DeviceScheduler.SwapResult> swapReplies;
    private final List<ActorRef<RoundReport>> roundWaiters = new ArrayList<>();
    private final List<ActorRef<RoundReport>> nextRoundWaiters = new ArrayList<>();
    private Phase phase = Phase.IDLE;
    private AtomicBoolean cancelRound = new AtomicBoolean();
    private boolean tickPending;
    private Function<DeviceScheduler.SwapResult, Behavior<Command>> afterSwap;
    private Function<Stored, Behavior<Command>> afterStore;

    public static Behavior<Command> create(TrainerContext ctx) {
        return Behaviors.setup(context -> Behaviors.withStash(64, stash -> Behaviors.withTimers(timers ->
                new TrainerActor(context, ctx, stash, timers))));
    }

    private TrainerActor(ActorContext<Command> context, TrainerContext ctx, StashBuffer<Command> stash,
                         TimerScheduler<Command> timers) {
        super(context);
        this.ctx = ctx;
        this.stash = stash;
        this.timers = timers;
        int threads = ctx.settings().threads();
        this.thread = Executors.newSingleThreadExecutor(r -> {
            // counted for its whole life: the runtime closes the store only once the thread has ended
            Thread t = new Thread(ctx.storeWork().tracked(() -> {
                Engines.setIntraOpThreads(threads); // this thread's share of the CPU; the devices keep theirs
                r.run();
            }), "memlong-trainer");
            t.setDaemon(true);
            return t;
        });
        this.swapReplies = context.messageAdapter(DeviceScheduler.SwapResult.class, Swapped::new);
        scheduleTick();
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(TrainNow.class, this::onTrainNow)
                .onMessage(DialogueCommitted.class, this::onDialogue)
                .onMessage(Rollback.class, this::onRollback)
                .onMessageEquals(Tick.INSTANCE, this::onTick)
                .onMessage(RoundEnded.class, this::onRoundEnded)
                .onMessage(Swapped.class, s -> afterSwap.apply(s.result()))
                .onMessage(Stored.class, s -> afterStore.apply(s))
                .onSignal(PostStop.class, s -> onStop())
                .build();
    }

    private Behavior<Command> onTrainNow(TrainNow request) {
        if (phase == Phase.IDLE) {
            roundWaiters.add(request.replyTo());
            startRound();
        } else {
            nextRoundWaiters.add(request.replyTo());
        }
        return this;
    }

    private Behavior<Command> onDialogue(DialogueCommitted committed) {
        ctx.counters().dialogue(committed.tokens());
        if (phase == Phase.IDLE && tokensDue()) {
            startRound();
        }
        return this;
    }

    private Behavior<Command> onTick() {
        if (phase == Phase.IDLE) {
            startRound();
        } else {
            tickPending = true;
        }
        return this;
    }

    private boolean tokensDue() {
        long every = ctx.settings().everyTokens();
        return ctx.settings().automatic() && every > 0 && ctx.counters().tokensSinceLastRound() >= every;
    }

    private void scheduleTick() {
        Duration every = ctx.settings().every();
        if (ctx.settings().automatic() && !every.isZero()) {
            timers.startSingleTimer(Tick.INSTANCE, Tick.INSTANCE, every);
        }
    }

    private void startRound() {
        phase = Phase.TRAINING;
        tickPending = false;
        timers.cancel(Tick.INSTANCE);
        ctx.counters().roundStarted();
        cancelRound = new AtomicBoolean();
        TrainingRound round = new TrainingRound(ctx, ctx.counters().serving(), cancelRound);
        getContext().pipeToSelf(CompletableFuture.supplyAsync(round::run, thread), (result, error) ->
                new RoundEnded(error == null ? result : new TrainingRound.Result(RoundReport.nothingDone(
                        Outcome.FAILED, ctx.counters().serving(), "failed: " + error, 0))));
    }

    private Behavior<Command> onRoundEnded(RoundEnded ended) {
        RoundReport report = ended.result().report();
        if (ended.result().published() == null) {
            return roundDone(report);
        }
        long previous = ctx.counters().serving();
        List<TrainedRange> consumed = ended.result().consumed();
        return swap(ended.result().published(), result -> {
            if (result.failures().isEmpty()) {
                ctx.counters().serving(report.version());
                // only now is the round's dialogue consumed: every device serves what was trained on it
                return markTrained(consumed, () -> roundDone(report));
            }
            getContext().getLog().error("model version {} could not be swapped into device(s) {}; restoring version {}",
                    report.version(), result.failures(), previous);
            RoundReport failed = new RoundReport(Outcome.FAILED, previous, report.parentVersion(),
                    report.heldoutLossBefore(), report.heldoutLossAfter(), report.trainTokens(),
                    report.heldoutTokens(), report.steps(), report.trainConversations(),
                    report.heldoutConversations(), report.restarts(), report.seconds(),
                    "published version " + report.version() + " could not be swapped in: " + result.failures()
                            + "; version " + previous + " serves again");
            // The cursors stay where they were: the next round trains on this dialogue again. The version stays
            // listed (not serving): some devices may have served it for a moment, so its number must keep naming
            // these weights (windows saved meanwhile are stamped with it) and is not given to another version.
            return storeServing(previous, stored -> stored.weights() == null ? roundDone(failed)
                    : swap(stored.weights(), back -> roundDone(failed)));
        });
    }

    /** Advances the training cursors over {@code ranges} on the trainer thread, then continues with {@code next}. */
    private Behavior<Command> markTrained(List<TrainedRange> ranges, Supplier<Behavior<Command>> next) {
        return onTrainerThread(() -> {
            try {
                ctx.store().markTrained(ranges);
            } catch (RuntimeException e) {
                // the version serves; its dialogue will only be trained on once more by the next round
                LOG.error("the training cursors could not be advanced after the swap", e);
            }
            return new Stored(null, null);
        }, stored -> next.get());
    }

    /** A round is over (after its swap): report and count it, then go idle. */
    private Behavior<Command> roundDone(RoundReport report) {
        ctx.counters().roundEnded(report);
        roundWaiters.forEach(w -> w.tell(report));
        roundWaiters.clear();
        scheduleTick();
        return becomeIdle();
    }

    /** Idle again: a stashed rollback goes first, then a round that is due (requested, by tokens, by time). */
    private Behavior<Command> becomeIdle() {
        phase = Phase.IDLE;
        if (!stash.isEmpty()) {
            return stash.unstashAll(this); // a rollback; due rounds are checked again when it is done
        }
        if (!nextRoundWaiters.isEmpty() || tokensDue() || (tickPending && ctx.settings().automatic())) {
            roundWaiters.addAll(nextRoundWaiters);
            nextRoundWaiters.clear();
            startRound();
        }
        return this;
    }

    private Behavior<Command> onRollback(Rollback rollback) {
        if (phase != Phase.IDLE) {
            if (phase == Phase.TRAINING) {
                cancelRound.set(true); // a round from the version being replaced would publish a stale child
                ctx.observer().cancelRequested();
            }
            if (stash.isFull()) {
                rollback.replyTo().tell(StatusReply.error(new MemLongException(MemLongException.Kind.OVERLOADED,
                        "too many rollbacks waiting")));
            } else {
                stash.stash(rollback);
            }
            return this;
        }
        long from = ctx.counters().serving();
        return storeServing(rollback.version(), stored -> {
            if (stored.error() != null) { // unknown version, or the store failed: nothing changed on the devices
                rollback.replyTo().tell(StatusReply.error(stored.error()));
                return becomeIdle();
            }
            return swap(stored.weights(), result -> {
                if (result.failures().isEmpty()) {
                    ctx.counters().serving(rollback.version());
                    getContext().getLog().info("model version {} serves (was {})", rollback.version(), from);
                    rollback.replyTo().tell(StatusReply.success(rollback.version()));
                    return becomeIdle();
                }
                MemLongException error = new MemLongException(MemLongException.Kind.DEVICE_FAILED, "version "
                        + rollback.version() + " could not be swapped in: " + result.failures() + "; version " + from
                        + " serves again");
                return storeServing(from, back -> {
                    if (back.weights() == null) {
                        rollback.replyTo().tell(StatusReply.error(error));
                        return becomeIdle();
                    }
                    return swap(back.weights(), ignored -> {
                        rollback.replyTo().tell(StatusReply.error(error));
                        return becomeIdle();
                    });
                });
            });
        });
    }

    /**
     * Writes the serving pointer on the trainer thread (0 or a stored version), then continues with {@code next}. The
     * {@link Stored} it continues with names the version's weights whenever the version exists, even if the write
     * failed, so a revert can still put the devices back.
     */
    private Behavior<Command> storeServing(long version, Function<Stored, Behavior<Command>> next) {
        return onTrainerThread(() -> {
            WeightVersion weights;
            try {
                weights = weights(version);
            } catch (RuntimeException e) {
                return new Stored(null, e);
            }
            try {
                ctx.store().setServingModelVersion(ctx.modelId(), version);
                return new Stored(weights, null);
            } catch (RuntimeException e) {
                LOG.error("the serving version {} could not be stored", version, e); // not getContext(): off-actor
                return new Stored(weights, new MemLongException(MemLongException.Kind.STORAGE,
                        "the serving version could not be stored: " + e.getMessage(), e));
            }
        }, next);
    }

    /** The weights of {@code version} (0 or a stored version; INVALID otherwise). Reads the store: trainer thread. */
    private WeightVersion weights(long version) {
        ModelVersion v = version == 0 ? null : ctx.store().modelVersion(ctx.modelId(), version).orElseThrow(
                () -> new MemLongException(MemLongException.Kind.INVALID, "no model version " + version
                        + " of " + ctx.modelId() + " (versions: " + ctx.store().modelVersions(ctx.modelId())
                        .stream().map(ModelVersion::version).toList() + "; 0 is the base model)"));
        return ctx.versionFiles().weights(version, v == null ? null : v.artifact());
    }

    /**
     * Runs {@code work} (store writes) on the trainer thread, never on the actor's, then continues with {@code next}.
     * Rollbacks and rounds wait meanwhile (the phase is not idle).
     */
    private Behavior<Command> onTrainerThread(Supplier<Stored> work, Function<Stored, Behavior<Command>> next) {
        phase = Phase.STORING;
        afterStore = next;
        getContext().pipeToSelf(CompletableFuture.supplyAsync(work, thread), (stored, error) ->
                error == null ? stored : new Stored(null, error));
        return this;
    }

    /** Swaps {@code weights} into every device, then continues with {@code next}. */
    private Behavior<Command> swap(WeightVersion weights, Function<DeviceScheduler.SwapResult, Behavior<Command>> next) {
        phase = Phase.SWAPPING;
        afterSwap = next;
        ctx.scheduler().tell(new DeviceScheduler.SwapWeights(weights, swapReplies));
        return this;
    }

    private Behavior<Command> onStop() {
        cancelRound.set(true);
        thread.shutdown();
        try {
            if (!thread.awaitTermination(30, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        RoundReport stopped = RoundReport.nothingDone(Outcome.CANCELLED, ctx.counters().serving(),
                "the runtime is shutting down", 0);
        roundWaiters.forEach(w -> w.tell(stopped));
        nextRoundWaiters.forEach(w -> w.tell(stopped));
        stash.forEach(c -> {
            if (c instanceof Rollback r) {
                r.replyTo().tell(StatusReply.error(new MemLongException(MemLongException.Kind.SHUTTING_DOWN,
                        "the runtime is shutting down")));
            }
        });
        return this;
    }
}
