package dev.memlong.runtime.train;

import java.util.Arrays;
import java.util.List;

/**
 * Feeds each batch slot its own documents, one segment at a time, so a slot reads a document consecutively across
 * steps and its memory builds up as it would in a conversation. Slot {@code s} reads documents
 * {@code s, s + B, s + 2B, ...} (cycling over the data for more epochs). Deterministic; its position is a few
 * integers ({@link #position}), which a checkpoint stores.
 *
 * <p>A document token may be stored as its bitwise complement {@code ~id} (a negative number, {@link #contextOnly}):
 * the model reads it as {@code id} but is not trained to predict it. That is how a dialogue trains on the assistant's
 * answers only (or on the answers that need memory) while every token stays in the context and in memory.
 */
public final class SlotStreams {

    /**
     * One slot's next segment.
     *
     * @param slot        the batch slot
     * @param tokens      the segment, right-padded with 0 to the segment length
     * @param targets     the next token of each position, {@code -1} where there is none (padding, document end)
     * @param length      real tokens in {@code tokens}
     * @param newDocument whether the segment starts a document (the slot's memory is cleared first)
     * @param document    index of the document in the data
     */
    public record Piece(int slot, long[] tokens, long[] targets, int length, boolean newDocument, int document) {
        /** Positions with a target. */
        public int targetCount() {
            int n = 0;
            for (long t : targets) {
                if (t >= 0) {
                    n++;
                }
            }
            return n;
        }

        public int[] realTokens() {
            int[] out = new int[length];
            for (int i = 0; i < length; i++) {
                out[i] = (int) tokens[i];
            }
            return out;
        }
    }

    private final List<int[]> documents;
    private final int slots;
    private final int segment;
    private final int[] round;   // per slot: how many documents it has started
    private final int[] offset;  // per slot: next token of its current document

    public SlotStreams(List<int[]> documents, int slots, int segmentLength) {
        if (documents.isEmpty() || documents.stream().allMatch(d -> d.length < 2)) {
            throw new IllegalArgumentException("training needs at least one document of two or more tokens");
        }
        this.documents = List.copyOf(documents);
        this.slots = slots;
        this.segment = segmentLength;
        this.round = new int[slots];
        this.offset = new int[slots];
        Arrays.fill(round, -1);
    }

    /** Total tokens in the data. */
    public long tokens() {
        return documents.stream().mapToLong(d -> d.length).sum();
    }

    /** The next segment of a slot. */
    public Piece next(int slot) {
        boolean fresh = round[slot] < 0 || offset[slot] >= current(slot).length - 1;
        if (fresh) {
            int guard = 0;
            do {
                round[slot]++;
                offset[slot] = 0;
                if (++guard > documents.size() + 1) {
                    throw new IllegalStateException("no document long enough");
                }
            } while (current(slot).length < 2);
        }
        int[] doc = current(slot);
        int from = offset[slot];
        int length = Math.min(segment, doc.length - from);
        long[] tokens = new long[segment];
        long[] targets = new long[segment];
        Arrays.fill(targets, -1);
        for (int i = 0; i < length; i++) {
            tokens[i] = id(doc[from + i]);
            if (from + i + 1 < doc.length && doc[from + i + 1] >= 0) {
                targets[i] = doc[from + i + 1];
            }
        }
        offset[slot] = from + length;
        return new Piece(slot, tokens, targets, length, fresh, documentIndex(slot));
    }

    /** A document token the model reads but is not trained to predict. */
    public static int contextOnly(int id) {
        return id < 0 ? id : ~id;
    }

    /** The token id of a document entry, whether trained on or context only. */
    public static int id(int entry) {
        return entry < 0 ? ~entry : entry;
    }

    private int documentIndex(int slot) {
        return (int) (((long) round[slot] * slots + slot) % documents.size());
    }

    private int[] current(int slot) {
        return documents.get(documentIndex(slot));
    }

    /** The streams' position: per slot {@code [documents started, offset]}. */
    public int[][] position() {
        int[][] p = new int[slots][];
        for (int s = 0; s < slots; s++) {
            p[s] = new int[] {round[s], offset[s]};
        }
        return p;
    }

    /** Continues from a saved {@link #position}. */
    public void restore(int[][] position) {
        if (position.length != slots) {
            throw new IllegalArgumentException("a position for " + position.length + " slots, not " + slots);
        }
        for (int s = 0; s < slots; s++) {
            round[s] = position[s][0];
            offset[s] = position[s][1];
        }
    }
}
