package dev.memlong.memory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Keeps the best {@code k} of a stream of scored chunks: higher score first, and the newer chunk (higher
 * sequence number) first among equal scores. A min-heap of size {@code k}, so a search costs
 * {@code O(n log k)}.
 */
public final class TopKHeap {

    /** Best first: higher score, then newer chunk. */
    public static final Comparator<ScoredChunk> BEST_FIRST =
            Comparator.comparingDouble(ScoredChunk::score).thenComparingLong(ScoredChunk::seq).reversed();

    private final int k;
    private final PriorityQueue<ScoredChunk> worstOnTop;

    public TopKHeap(int k) {
        if (k < 0) {
            throw new IllegalArgumentException("k must not be negative, got " + k);
        }
        this.k = k;
        this.worstOnTop = new PriorityQueue<>(Math.max(1, k), BEST_FIRST.reversed());
    }

    /** Offers a candidate. */
    public void offer(long seq, float score) {
        if (k == 0) {
            return;
        }
        if (worstOnTop.size() < k) {
            worstOnTop.add(new ScoredChunk(seq, score));
            return;
        }
        ScoredChunk worst = worstOnTop.peek();
        int c = Float.compare(score, worst.score());
        if (c > 0 || (c == 0 && seq > worst.seq())) {
            worstOnTop.poll();
            worstOnTop.add(new ScoredChunk(seq, score));
        }
    }

    /** The kept candidates, best first. */
    public List<ScoredChunk> best() {
        List<ScoredChunk> out = new ArrayList<>(worstOnTop);
        out.sort(BEST_FIRST);
        return Collections.unmodifiableList(out);
    }
}
