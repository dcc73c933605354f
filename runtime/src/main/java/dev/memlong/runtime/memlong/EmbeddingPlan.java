package dev.memlong.runtime.memlong;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@link MemLongSequence#prepare} will embed for a piece, split by purpose
 * ({@link MemLongSequence#embeddingPlan}): the query is told apart so that its memory can be read ahead.
 *
 * @param chunkTexts the texts of the chunks a window overflow moves to memory, in order
 * @param query      the retrieval query's text, or null when {@code prepare} retrieves nothing
 */
public record EmbeddingPlan(List<String> chunkTexts, String query) {

    public EmbeddingPlan {
        chunkTexts = List.copyOf(chunkTexts);
    }

    /** Every text, in the order {@code prepare} embeds them (the query last). */
    public List<String> texts() {
        if (query == null) {
            return chunkTexts;
        }
        List<String> all = new ArrayList<>(chunkTexts);
        all.add(query);
        return all;
    }
}
