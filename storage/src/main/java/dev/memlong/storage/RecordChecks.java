package dev.memlong.storage;

import dev.memlong.storage.proto.ChunkRecord;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.TurnRecord;

/**
 * What a record must hold to be usable, beyond parsing: a value that breaks these would fail much later, far
 * from its cause, with an untyped exception (a chunk of no tokens, a negative counter, a sequence counter about
 * to overflow, a NaN embedding, an enum value this build does not know). Each check returns null when the record
 * is usable, else the problem, naming the field. {@link RecordCodec} turns a problem of a stored value into
 * UNPARSABLE_VALUE; {@link ImportWriter} turns one of an export stream into BAD_EXPORT.
 */
final class RecordChecks {

    /**
     * Sequence numbers (and the next ones a conversation hands out) stay at or below this, so {@code seq + 1}
     * never overflows. No conversation comes near it: it is 2^62 appends.
     */
    static final long MAX_SEQ = 1L << 62;

    private RecordChecks() {}

    static String conversation(ConversationRecord r) {
        try {
            Records.layout(r.getLayout());
        } catch (IllegalArgumentException e) {
            return "layout: " + e.getMessage();
        }
        if (r.getCapacityTokens() <= 0) {
            return "capacity_tokens must be positive, got " + r.getCapacityTokens();
        }
        switch (r.getEvictionPolicy()) {
            case EVICTION_POLICY_FREQUENCY, EVICTION_POLICY_FIFO -> { }
            default -> {
                return "eviction_policy " + r.getEvictionPolicy() + " is not FREQUENCY or FIFO";
            }
        }
        String problem = nextSeq("next_turn_seq", r.getNextTurnSeq());
        return problem != null ? problem : nextSeq("next_chunk_seq", r.getNextChunkSeq());
    }

    static String turn(TurnRecord t) {
        String problem = seq(t.getSeq());
        if (problem != null) {
            return problem;
        }
        return switch (t.getRole()) {
            case ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT -> null;
            // never guess: a message read as the assistant's would be trained on as the model's own output
            default -> "role " + t.getRole() + " is not SYSTEM, USER or ASSISTANT";
        };
    }

    static String chunk(ChunkRecord c) {
        String problem = seq(c.getSeq());
        if (problem != null) {
            return problem;
        }
        if (c.getTokenIdsCount() == 0) {
            return "token_ids is empty; a chunk holds at least one token";
        }
        if (c.getRetrievalCount() < 0) {
            return "retrieval_count must be >= 0, got " + c.getRetrievalCount();
        }
        return null;
    }

    static String embedding(float[] e) {
        for (int i = 0; i < e.length; i++) {
            if (!Float.isFinite(e[i])) {
                return "embedding_le[" + i + "] is " + e[i] + "; search needs finite values";
            }
        }
        return null;
    }

    /** Checks a sequence number given to a turn or chunk. */
    static String seq(long seq) {
        return seq < 0 || seq >= MAX_SEQ ? "seq " + seq + " is outside [0, 2^62)" : null;
    }

    private static String nextSeq(String field, long next) {
        return next < 0 || next > MAX_SEQ ? field + " " + next + " is outside [0, 2^62]" : null;
    }
}
