package dev.memlong.actors;

/**
 * The trainer's counters at one instant, read without messaging any actor (cheap enough for every metrics scrape;
 * see {@link MemLongRuntime#trainerStats()}).
 *
 * @param roundsRun              rounds that trained since start (published + rejected + failed)
 * @param roundsPublished        rounds whose version was published and swapped in
 * @param roundsRejected         rounds whose version made the held-out loss worse beyond the tolerance
 * @param roundsFailed           rounds that threw, produced a non-finite loss, or could not be swapped in
 * @param roundsSkipped          rounds that found too little new dialogue to train on
 * @param lastHeldoutLossBefore  held-out loss of the serving version at the last round that trained (NaN: none yet)
 * @param lastHeldoutLossAfter   held-out loss of that round's trained weights (NaN: none yet)
 * @param servingVersion         the model version the devices serve (0: the base model)
 * @param roundInProgress        whether a round runs now
 * @param tokensSinceLastRound   dialogue tokens committed since the last round started
 */
public record TrainerStats(long roundsRun, long roundsPublished, long roundsRejected, long roundsFailed,
                           long roundsSkipped, double lastHeldoutLossBefore, double lastHeldoutLossAfter,
                           long servingVersion, boolean roundInProgress, long tokensSinceLastRound) {}
