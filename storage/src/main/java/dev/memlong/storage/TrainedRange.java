package dev.memlong.storage;

import java.util.Objects;

/**
 * Messages {@code [fromSeq, toSeq)} of one conversation that a training round read.
 *
 * @param key                     the conversation
 * @param fromSeq                 first message
 * @param toSeq                   one past the last message
 * @param conversationCreatedAtMs the conversation's creation time; identifies the incarnation only where
 *                                {@code conversationIncarnation} is 0
 * @param conversationIncarnation which incarnation of the conversation ({@link ConversationInfo#incarnation}; a
 *                                forgotten and re-created conversation has another), or 0 if not known
 * @param heldout                 whether the round held it out (loss measured, never trained on)
 */
public record TrainedRange(ConversationKey key, long fromSeq, long toSeq, long conversationCreatedAtMs,
                           long conversationIncarnation, boolean heldout) {

    public TrainedRange {
        Objects.requireNonNull(key, "key");
        if (fromSeq < 0 || toSeq < fromSeq) {
            throw new IllegalArgumentException("invalid message range [" + fromSeq + ", " + toSeq + ") of " + key);
        }
    }

    /**
     * A range whose incarnation is not known: {@link ConversationStore#markTrained} falls back to comparing creation
     * times, which cannot tell incarnations created in the same millisecond apart. Prefer {@link #of}.
     */
    public TrainedRange(ConversationKey key, long fromSeq, long toSeq, long conversationCreatedAtMs,
                        boolean heldout) {
        this(key, fromSeq, toSeq, conversationCreatedAtMs, 0, heldout);
    }

    /** Messages {@code [fromSeq, toSeq)} of the conversation {@code c} describes, this incarnation of it. */
    public static TrainedRange of(ConversationInfo c, long fromSeq, long toSeq, boolean heldout) {
        return new TrainedRange(c.key(), fromSeq, toSeq, c.createdAtMs(), c.incarnation(), heldout);
    }

    /** The same messages, held out or not. */
    public TrainedRange withHeldout(boolean held) {
        return new TrainedRange(key, fromSeq, toSeq, conversationCreatedAtMs, conversationIncarnation, held);
    }

    /** Whether this range was read from the stored conversation of that incarnation and creation time. */
    public boolean sameIncarnation(long storedIncarnation, long storedCreatedAtMs) {
        if (conversationIncarnation != 0) {
            return conversationIncarnation == storedIncarnation;
        }
        // not known: a range built by a caller that does not pass it, or read from a record written before
        // incarnations existed (whose incarnation is 0 too)
        return conversationCreatedAtMs == storedCreatedAtMs;
    }
}
