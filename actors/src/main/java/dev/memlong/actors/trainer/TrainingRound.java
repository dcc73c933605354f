package dev.memlong.actors.trainer;

import ai.djl.ndarray.NDManager;
import dev.memlong.actors.RoundReport;
import dev.memlong.actors.RoundReport.Outcome;
import dev.memlong.actors.scheduler.WeightVersion;
import dev.memlong.runtime.engine.Engines;
import dev.memlong.runtime.train.HeldoutLoss;
import dev.memlong.runtime.train.LrSchedule;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.TrainedCheckpoint;
import dev.memlong.runtime.train.Trainer;
import dev.memlong.runtime.train.TrainingMode;
import dev.memlong.runtime.train.TrainingSettings;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ModelVersion;
import dev.memlong.storage.TrainedRange;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One training round, run on the trainer's thread (blocking): read the dialogue since the last round, hold out a
 * part, train a copy of the trainable parameters (LoRA or full, above the memory layer) starting from the serving
 * version, measure the held-out loss before and after, and publish the new version (files, then the store's record
 * and serving pointer) only if the loss did not get worse beyond the tolerance. The devices are not touched here:
 * the trainer actor swaps a published version in.
 *
 * <p>Conversations forgotten or opted out while the round runs are caught before every step, before publishing
 * and right after it (a version that an exclusion overtook is withdrawn): the round then starts over from the
 * serving version without them, so no version it publishes has seen their data after the exclusion.
 */
final class TrainingRound {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingRound.class);

    /**
     * A round's report and, when it published, the weights to swap in and the dialogue it consumed: the trainer
     * actor advances the cursors over {@code consumed} only once every device serves the version, so a round whose
     * swap fails leaves its dialogue for the next one.
     */
    record Result(RoundReport report, WeightVersion published, List<TrainedRange> consumed) {
        Result(RoundReport report) {
            this(report, null, List.of());
        }
    }

    /** The round was cancelled (a rollback or a shutdown). */
    static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("cancelled", null, false, false);
        }
    }

    private final TrainerContext ctx;
    private final TrainerSettings settings;
    private final long parent;
    private final AtomicBoolean cancelled;
    private final long start = System.nanoTime();

    TrainingRound(TrainerContext ctx, long parentVersion, AtomicBoolean cancelled) {
        this.ctx = ctx;
        this.settings = ctx.settings();
        this.parent = parentVersion;
        this.cancelled = cancelled;
    }

    /** Runs the round; never throws (a failure is a {@link Outcome#FAILED} report, logged). */
    Result run() {
        Set<ConversationKey> skip = new HashSet<>();
        try (ExclusionWatch watch = new ExclusionWatch(ctx.store())) {
            for (int attempt = 0; ; attempt++) {
                try {
                    return attempt(attempt, skip, watch);
                } catch (ExclusionWatch.ConversationsExcluded e) {
                    skip.addAll(e.keys);
                    LOG.info("training round: {} excluded from training meanwhile; {}", e.keys,
                            attempt < settings.maxRestarts() ? "starting over without them" : "giving up");
                    if (attempt >= settings.maxRestarts()) {
                        return nothing(Outcome.FAILED, "conversations kept being excluded; gave up after "
                                + (attempt + 1) + " attempts");
                    }
                }
            }
        } catch (Cancelled e) {
            return nothing(Outcome.CANCELLED, "cancelled");
        } catch (RuntimeException e) {
            LOG.error("training round from version {} failed; the serving version is unchanged", parent, e);
            return nothing(Outcome.FAILED, "failed: " + e);
        }
    }

    private Result attempt(int attempt, Set<ConversationKey> skip, ExclusionWatch watch) {
        Set<ConversationKey> excluded = new HashSet<>(skip);
        excluded.addAll(watch.all());
        DialogueDocuments.Split split = new DialogueDocuments(ctx.store(), ctx.modelId(), ctx.tokenizer(),
                ctx.template(), settings.heldoutFraction()).read(excluded);
        long trainTokens = split.trainTokens();
        if (split.train().isEmpty() || trainTokens < settings.minTokens()) {
            return nothing(Outcome.SKIPPED, "too little new dialogue: " + trainTokens + " training tokens, "
                    + settings.minTokens() + " needed (memlong.actors.trainer.min-tokens)");
        }
        if (split.heldout().isEmpty()) {
            return nothing(Outcome.SKIPPED, "no held-out conversation: new dialogue in at least two conversations "
                    + "is needed");
        }
        List<ConversationKey> trainKeys = split.train().stream().map(DialogueDocuments.Document::key).toList();
        List<ConversationKey> heldoutKeys = split.heldout().stream().map(DialogueDocuments.Document::key).toList();
        List<ConversationKey> used = new ArrayList<>(trainKeys);
        used.addAll(heldoutKeys);
        watch.check(used);

        long version = ctx.store().latestModelVersion(ctx.modelId()).map(ModelVersion::version).orElse(0L) + 1;
        int m = ctx.memory().memoryLayer();
        int segment = settings.segmentLength(ctx.memory());
        int steps = (int) Math.max(1, Math.min(settings.maxSteps(),
                Math.ceil(settings.epochs() * trainTokens / ((double) settings.batchSlots() * segment))));
        TrainingSettings training = new TrainingSettings(settings.mode(), settings.lora(), ctx.memory(),
                settings.retrieval(), new LrSchedule(settings.learningRate(), Math.min(settings.warmupSteps(), steps),
                steps, LrSchedule.Decay.COSINE, 0.1), settings.weightDecay(), 0.9, 0.999, 1e-8,
                settings.clipNorm(), 1, settings.batchSlots(), segment, 1, settings.seed() * 31 + version);
        List<int[]> trainDocs = split.train().stream().map(DialogueDocuments.Document::tokens).toList();
        List<int[]> heldoutDocs = split.heldout().stream().map(DialogueDocuments.Document::tokens).toList();
        long heldoutTargets;
        double before;
        double after;
        try (NDManager manager = Engines.pytorch().newBaseManager();
             ModelParameters params = ModelParameters.load(ctx.modelDir(), manager)) {
            if (parent > 0) {
                TrainedCheckpoint.loadUpperLayers(params, m, ctx.versionFiles().directory()
                        .resolve(ctx.store().modelVersion(ctx.modelId(), parent).orElseThrow().artifact()));
            }
            params.prepare(training.mode(), m, training.lora(), training.seed());
            HeldoutLoss.Result b = HeldoutLoss.evaluate(params, training, heldoutDocs, ctx.retriever(), ctx.tokenizer());
            before = b.loss();
            heldoutTargets = b.targets();
            try (Trainer trainer = new Trainer(params, training, trainDocs, ctx.retriever(), ctx.tokenizer(),
                    settings.threads())) {
                for (int step = 0; step < steps; step++) {
                    checkpoint(watch, used);
                    ctx.observer().beforeStep(attempt, step, trainKeys);
                    long t0 = System.nanoTime();
                    Trainer.StepResult r = trainer.trainStep();
                    if (r.skipped() || !Double.isFinite(r.loss())) {
                        LOG.error("training round from version {}: non-finite loss at step {} ({}); the serving "
                                + "version is unchanged", parent, step, r);
                        return report(Outcome.FAILED, parent, before, Double.NaN, trainTokens, heldoutTargets, step,
                                trainKeys, heldoutKeys, attempt, "non-finite loss at step " + step);
                    }
                    throttle(System.nanoTime() - t0);
                }
            }
            checkpoint(watch, used);
            after = HeldoutLoss.evaluate(params, training, heldoutDocs, ctx.retriever(), ctx.tokenizer()).loss();
            checkpoint(watch, used);
            if (!Double.isFinite(after) || !Double.isFinite(before)) {
                return report(Outcome.FAILED, parent, before, after, trainTokens, heldoutTargets, steps, trainKeys,
                        heldoutKeys, attempt, "non-finite held-out loss");
            }
            if (after > before * (1 + settings.tolerance())) {
                ctx.store().markTrained(split.ranges());
                LOG.info("training round from version {}: held-out loss {} -> {}, worse beyond tolerance {}; "
                        + "not published", parent, before, after, settings.tolerance());
                return report(Outcome.REJECTED, parent, before, after, trainTokens, heldoutTargets, steps, trainKeys,
                        heldoutKeys, attempt, "held-out loss " + before + " -> " + after + " is worse than the "
                                + "tolerance " + settings.tolerance() + " allows");
            }
            ModelVersion record = new ModelVersion(ctx.modelId(), version, parent, VersionFiles.artifact(version),
                    System.currentTimeMillis(), m, modeName(settings.mode()), split.ranges(), before, after,
                    trainTokens, heldoutTargets, steps);
            java.nio.file.Path file = ctx.versionFiles().write(params, record);
            try {
                checkpoint(watch, used);
                ctx.observer().beforePublish(attempt, version);
                ctx.store().publishModelVersion(record);
            } catch (RuntimeException e) {
                ctx.versionFiles().delete(version);
                throw e;
            }
            // A forget or opt-out can land between the check above and the publication. Checked again now that the
            // version is stored, so nothing excluded before its publication stays in it: such a version is
            // withdrawn (never swapped in) and the round starts over without the conversation.
            try {
                watch.check(used);
                watch.checkStored(ctx.store(), split.ranges());
            } catch (ExclusionWatch.ConversationsExcluded e) {
                LOG.info("training round: {} excluded while model version {} was being published; withdrawing it",
                        e.keys, version);
                withdraw(version);
                throw e;
            } catch (RuntimeException e) {
                // the check itself failed (a store read): the version is stored as serving but was not vetted, so
                // it must not stay (a restart would serve it)
                try {
                    withdraw(version);
                } catch (RuntimeException w) {
                    e.addSuppressed(w);
                }
                throw e;
            }
            // the cursors move only once the devices serve it (TrainerActor): a failed swap consumes nothing
            LOG.info("training round: published model version {} (from {}), held-out loss {} -> {}, {} tokens, "
                    + "{} steps", version, parent, before, after, trainTokens, steps);
            return new Result(reportOf(Outcome.PUBLISHED, version, before, after, trainTokens, heldoutTargets, steps,
                    trainKeys, heldoutKeys, attempt, ""), new WeightVersion(version, file), split.ranges());
        }
    }

    /** Takes back a version this round just published: the store serves its parent again; its files go. */
    private void withdraw(long version) {
        ctx.store().withdrawModelVersion(ctx.modelId(), version, parent);
        ctx.versionFiles().delete(version);
    }

    /** Between steps: stop when cancelled, start over when a conversation of the round was excluded. */
    private void checkpoint(ExclusionWatch watch, List<ConversationKey> used) {
        if (cancelled.get() || Thread.currentThread().isInterrupted()) {
            throw new Cancelled();
        }
        watch.check(used);
    }

    /** The duty cycle: after a step of {@code nanos}, pause so the trainer computes {@code duty-cycle} of the time. */
    private void throttle(long nanos) {
        double d = settings.dutyCycle();
        if (d >= 1) {
            return;
        }
        long pause = (long) (nanos * (1 - d) / d);
        try {
            Thread.sleep(pause / 1_000_000, (int) (pause % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Cancelled();
        }
    }

    static String modeName(TrainingMode mode) {
        return mode == TrainingMode.LORA_UPPER ? "lora" : "full-upper";
    }

    private Result nothing(Outcome outcome, String message) {
        return new Result(RoundReport.nothingDone(outcome, parent, message, seconds()));
    }

    /** A round that published nothing. */
    private Result report(Outcome outcome, long version, double before, double after, long trainTokens,
                          long heldoutTokens, int steps, List<ConversationKey> train, List<ConversationKey> heldout,
                          int restarts, String message) {
        return new Result(reportOf(outcome, version, before, after, trainTokens, heldoutTokens, steps, train,
                heldout, restarts, message));
    }

    private RoundReport reportOf(Outcome outcome, long version, double before, double after, long trainTokens,
                                 long heldoutTokens, int steps, List<ConversationKey> train,
                                 List<ConversationKey> heldout, int restarts, String message) {
        return new RoundReport(outcome, version, parent, before, after, trainTokens, heldoutTokens, steps, train,
                heldout, restarts, seconds(), message);
    }

    private double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }
}
