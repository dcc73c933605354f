package dev.memlong.actors.trainer;

import dev.memlong.actors.RoundReport;
import dev.memlong.actors.TrainerStats;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The trainer's counters: written by the trainer actor, read by anyone through {@link #snapshot()} without
 * messaging it.
 */
public final class TrainerCounters {

    private final AtomicLong run = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicReference<double[]> lastLosses = new AtomicReference<>(new double[] {Double.NaN, Double.NaN});
    private final AtomicLong serving = new AtomicLong();
    private final AtomicBoolean inProgress = new AtomicBoolean();
    private final AtomicLong tokens = new AtomicLong();

    public TrainerCounters(long servingVersion) {
        serving.set(servingVersion);
    }

    public TrainerStats snapshot() {
        double[] losses = lastLosses.get();
        return new TrainerStats(run.get(), published.get(), rejected.get(), failed.get(), skipped.get(), losses[0],
                losses[1], serving.get(), inProgress.get(), tokens.get());
    }

    void roundStarted() {
        inProgress.set(true);
        tokens.set(0);
    }

    void dialogue(long n) {
        tokens.addAndGet(n);
    }

    long tokensSinceLastRound() {
        return tokens.get();
    }

    void serving(long version) {
        serving.set(version);
    }

    long serving() {
        return serving.get();
    }

    /** Counts a finished round (after its swap, for a published one). */
    void roundEnded(RoundReport report) {
        inProgress.set(false);
        switch (report.outcome()) {
            case PUBLISHED -> published.incrementAndGet();
            case REJECTED -> rejected.incrementAndGet();
            case FAILED -> failed.incrementAndGet();
            case SKIPPED -> skipped.incrementAndGet();
            case CANCELLED -> { }
        }
        if (report.outcome() == RoundReport.Outcome.PUBLISHED || report.outcome() == RoundReport.Outcome.REJECTED
                || report.outcome() == RoundReport.Outcome.FAILED) {
            run.incrementAndGet();
        }
        if (!Double.isNaN(report.heldoutLossBefore())) {
            lastLosses.set(new double[] {report.heldoutLossBefore(), report.heldoutLossAfter()});
        }
    }
}
