package dev.memlong.examples.train;

import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.train.SlotStreams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Token documents of {@link SyntheticDialogues.MemoryDrill}s laid out on training-segment boundaries: the stated
 * facts and small talk fill exactly the first segment (so every fact is in memory when the next segment is read and
 * none is in its window), then the questions fill up to {@code askedSegments} more segments. Tokens of turns not
 * trained on are stored context-only ({@link SlotStreams#contextOnly}). The trainer cuts
 * documents into segments of the same length ({@link dev.memlong.runtime.train.SlotStreams}).
 */
public final class MemoryDrillDocuments {

    private final TextTokenizer tokenizer;
    private final Optional<ChatTemplate> template;
    private final int segment;

    public MemoryDrillDocuments(TextTokenizer tokenizer, Optional<ChatTemplate> template, int segment) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.segment = segment;
    }

    /** One document; the facts must fit the first segment (fails otherwise, naming the sizes). */
    public int[] document(SyntheticDialogues.MemoryDrill drill, int askedSegments) {
        return document(drill, 1, askedSegments);
    }

    /**
     * One document whose stated part (padded with small talk) fills exactly {@code statedSegments} segments, then up
     * to {@code askedSegments} segments of questions; fails if the stated part does not fit, naming the sizes.
     */
    public int[] document(SyntheticDialogues.MemoryDrill drill, int statedSegments, int askedSegments) {
        int room = statedSegments * segment;
        int[] stated = encode(drill.stated());
        if (stated.length > room) {
            throw new IllegalArgumentException("the stated facts take " + stated.length + " tokens, more than the "
                    + room + " tokens of " + statedSegments + " segment(s)");
        }
        int[] filler = encode(drill.filler());
        int[] asked = encode(drill.asked());
        int[] doc = new int[room + Math.min(asked.length, askedSegments * segment)];
        System.arraycopy(stated, 0, doc, 0, stated.length);
        int pad = room - stated.length;
        if (filler.length < pad) {
            throw new IllegalArgumentException("not enough small talk to fill the segment: " + filler.length + " < " + pad);
        }
        System.arraycopy(filler, 0, doc, stated.length, pad);
        System.arraycopy(asked, 0, doc, room, doc.length - room);
        return doc;
    }

    /** Tokens of a drill's stated part, for choosing how many segments it needs. */
    public int statedTokens(SyntheticDialogues.MemoryDrill drill) {
        return encode(drill.stated()).length;
    }

    private int[] encode(List<SyntheticDialogues.Turn> turns) {
        List<int[]> parts = new ArrayList<>();
        // message by message, so a cut at a segment boundary falls between whole words of the rendered dialogue
        for (SyntheticDialogues.Turn t : turns) {
            int[] ids = tokenizer.encode(TrainingData.render(List.of(t.message()), template), false);
            if (!t.trained()) {
                ids = Arrays.stream(ids).map(SlotStreams::contextOnly).toArray();
            }
            parts.add(ids);
        }
        return parts.stream().flatMapToInt(Arrays::stream).toArray();
    }
}
