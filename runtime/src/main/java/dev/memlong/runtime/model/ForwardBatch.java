package dev.memlong.runtime.model;

import java.util.Arrays;
import java.util.List;

/**
 * The index bookkeeping of one batched forward, computed in Java once per call and shared by every layer: the
 * right-padded token matrix, each token's position, where each token's K/V is written, which cached keys each
 * query may see, and which rows hold each sequence's last token.
 */
final class ForwardBatch {

    private final int[] slots;
    private final int[] starts;
    private final int[] counts;
    private final int width;   // T: longest step in the batch
    private final int span;    // S: cached keys visible after this step
    private final int capacity;
    private final int positionOffset;

    private ForwardBatch(int[] slots, int[] starts, int[] counts, int width, int span, int capacity, int positionOffset) {
        this.slots = slots;
        this.starts = starts;
        this.counts = counts;
        this.width = width;
        this.span = span;
        this.capacity = capacity;
        this.positionOffset = positionOffset;
    }

    /**
     * @param vocabSize the model's vocabulary: every token id must be in {@code [0, vocabSize)}
     * @throws IllegalArgumentException for an empty batch, a bad or repeated slot, or a token id outside the
     *                                  vocabulary (checked here because neither the embedding lookup nor the Java
     *                                  decoder reports it clearly: a native index error or an out-of-bounds read)
     */
    static ForwardBatch of(KvCachePool cache, List<SequenceStep> steps, int vocabSize) {
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("a forward needs at least one sequence");
        }
        int n = steps.size();
        int[] slots = new int[n];
        int[] starts = new int[n];
        int[] counts = new int[n];
        boolean[] seen = new boolean[cache.slots()];
        int width = 0;
        int span = 0;
        for (int i = 0; i < n; i++) {
            SequenceStep s = steps.get(i);
            if (s.slot() < 0 || s.slot() >= cache.slots()) {
                throw new IllegalArgumentException("slot " + s.slot() + " is outside the cache's " + cache.slots() + " slots");
            }
            if (seen[s.slot()]) {
                throw new IllegalArgumentException("slot " + s.slot() + " appears twice in one forward");
            }
            seen[s.slot()] = true;
            for (int id : s.tokens()) {
                if (id < 0 || id >= vocabSize) {
                    throw new IllegalArgumentException("token id " + id + " of slot " + s.slot()
                            + " is outside the vocabulary of " + vocabSize + " tokens [0, " + vocabSize + ")");
                }
            }
            slots[i] = s.slot();
            starts[i] = cache.length(s.slot());
            counts[i] = s.tokens().length;
            int end = starts[i] + counts[i];
            if (end > cache.capacity()) {
                throw new IllegalStateException("slot " + s.slot() + " would hold " + end + " tokens; its capacity is "
                        + cache.capacity());
            }
            width = Math.max(width, counts[i]);
            span = Math.max(span, end);
        }
        ForwardBatch b = new ForwardBatch(slots, starts, counts, width, span, cache.capacity(), cache.positionOffset());
        b.tokens = new long[n * width];
        for (int i = 0; i < n; i++) {
            int[] t = steps.get(i).tokens();
            for (int j = 0; j < t.length; j++) {
                b.tokens[i * width + j] = t[j];
            }
        }
        return b;
    }

    private long[] tokens;

    int size() {
        return slots.length;
    }

    int width() {
        return width;
    }

    int span() {
        return span;
    }

    long[] tokenIds() {
        return tokens;
    }

    long[] slots() {
        return Arrays.stream(slots).asLongStream().toArray();
    }

    /** True when the batch's slots are consecutive and ascending ({@code s, s+1, ...}): the cache is read as a view. */
    boolean contiguousSlots() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != slots[0] + i) {
                return false;
            }
        }
        return true;
    }

    /** New tokens of sequence {@code i} in this forward. */
    int count(int i) {
        return counts[i];
    }

    /** Cache slot of sequence {@code i}. */
    int slot(int i) {
        return slots[i];
    }

    /** Cache row where sequence {@code i}'s first new token goes (its cached length before this step). */
    int start(int i) {
        return starts[i];
    }

    /** The first slot of the batch. */
    int firstSlot() {
        return slots[0];
    }

    /** Rotary position of every (sequence, column): its cache row plus the cache's offset. */
    long[] positions() {
        long[] p = writePositions();
        for (int i = 0; i < p.length; i++) {
            p[i] += positionOffset;
        }
        return p;
    }

    /** Slot each (sequence, column) writes its K/V to. */
    long[] writeSlots() {
        long[] s = new long[slots.length * width];
        for (int i = 0; i < slots.length; i++) {
            Arrays.fill(s, i * width, (i + 1) * width, slots[i]);
        }
        return s;
    }

    /** Cache row each (sequence, column) writes to: padding goes past the sequence's end or to the scratch row. */
    long[] writePositions() {
        long[] p = new long[slots.length * width];
        for (int i = 0; i < slots.length; i++) {
            for (int j = 0; j < width; j++) {
                p[i * width + j] = Math.min(starts[i] + j, capacity);
            }
        }
        return p;
    }

    /** Whether any query must be kept from any key in {@code [0, span)}: only a single-token, unpadded step needs none. */
    boolean needsMask() {
        if (width > 1) {
            return true;
        }
        for (int i = 0; i < slots.length; i++) {
            if (starts[i] + counts[i] != span) {
                return true;
            }
        }
        return false;
    }

    /** Additive mask {@code [B, T, S]}: 0 where key j is visible to query column c, -inf elsewhere. */
    float[] mask() {
        return mask(new int[slots.length], 0);
    }

    /**
     * Additive mask {@code [B, T, M + S]} for retrieval layers: the first {@code memoryWidth} columns are memory
     * (visible to every query, up to the sequence's own {@code memoryTokens}), then the causal local part.
     */
    float[] mask(int[] memoryTokens, int memoryWidth) {
        int cols = memoryWidth + span;
        float[] m = new float[slots.length * width * cols];
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < slots.length; i++) {
            int end = starts[i] + counts[i];
            for (int c = 0; c < width; c++) {
                int row = (i * width + c) * cols;
                Arrays.fill(m, row, row + memoryTokens[i], 0f);
                int visible = Math.min(starts[i] + c, end - 1); // causal; padding rows see the real prefix only
                Arrays.fill(m, row + memoryWidth, row + memoryWidth + visible + 1, 0f);
            }
        }
        return m;
    }

    /** Whether the retrieval layers need a mask: the local one is needed, or some sequence has less memory. */
    boolean needsMask(int[] memoryTokens, int memoryWidth) {
        if (needsMask()) {
            return true;
        }
        for (int t : memoryTokens) {
            if (t != memoryWidth) {
                return true;
            }
        }
        return false;
    }

    /** Row of each sequence's last real token in the flattened {@code [B*T]} activations. */
    long[] lastTokenRows() {
        long[] r = new long[slots.length];
        for (int i = 0; i < slots.length; i++) {
            r[i] = (long) i * width + counts[i] - 1;
        }
        return r;
    }

    float[][][] unpackLogits(float[] flat, boolean allPositions, int vocab) {
        float[][][] out = new float[slots.length][][];
        for (int i = 0; i < slots.length; i++) {
            int rows = allPositions ? counts[i] : 1;
            out[i] = new float[rows][];
            for (int r = 0; r < rows; r++) {
                int src = allPositions ? (i * width + r) : i;
                out[i][r] = Arrays.copyOfRange(flat, src * vocab, (src + 1) * vocab);
            }
        }
        return out;
    }

    /** Records the appended tokens in the cache once the forward has succeeded. */
    void commit(KvCachePool cache) {
        for (int i = 0; i < slots.length; i++) {
            cache.advance(slots[i], counts[i]);
        }
    }
}
