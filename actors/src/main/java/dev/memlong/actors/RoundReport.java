package dev.memlong.actors;

import dev.memlong.storage.ConversationKey;
import java.util.List;

/**
 * What one training round did (see {@link MemLongRuntime#train()}).
 *
 * @param outcome               how it ended
 * @param version               the version it published, or the serving version it left in place
 * @param parentVersion         the version it trained from
 * @param heldoutLossBefore     mean held-out cross-entropy of the parent version (NaN if not measured)
 * @param heldoutLossAfter      the same for the trained weights (NaN if not measured)
 * @param trainTokens           tokens of dialogue trained on
 * @param heldoutTokens         target tokens of the held-out loss
 * @param steps                 optimizer steps taken
 * @param trainConversations    conversations trained on
 * @param heldoutConversations  conversations held out
 * @param restarts              times the round started over because conversations were forgotten or opted out
 * @param seconds               wall time
 * @param message               why it was skipped, rejected or failed ("" when published)
 */
public record RoundReport(Outcome outcome, long version, long parentVersion, double heldoutLossBefore,
                          double heldoutLossAfter, long trainTokens, long heldoutTokens, int steps,
                          List<ConversationKey> trainConversations, List<ConversationKey> heldoutConversations,
                          int restarts, double seconds, String message) {

    public RoundReport {
        trainConversations = List.copyOf(trainConversations);
        heldoutConversations = List.copyOf(heldoutConversations);
    }

    /** How a round ended. */
    public enum Outcome {
        /** the new version is stored, serving, and swapped into every device */
        PUBLISHED,
        /** the held-out loss got worse beyond the tolerance: nothing changed */
        REJECTED,
        /** too little new dialogue (or no held-out conversation): nothing changed, the dialogue waits */
        SKIPPED,
        /** an error or a non-finite loss: nothing changed (logged) */
        FAILED,
        /** stopped by a rollback or a shutdown: nothing changed */
        CANCELLED
    }

    /** A round that ended before training. */
    public static RoundReport nothingDone(Outcome outcome, long serving, String message, double seconds) {
        return new RoundReport(outcome, serving, serving, Double.NaN, Double.NaN, 0, 0, 0, List.of(), List.of(), 0,
                seconds, message);
    }
}
