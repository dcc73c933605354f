package dev.memlong.runtime.generate;

import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a growing list of generated ids into text deltas and watches for stop strings. Decoding the whole
 * continuation each step (instead of token by token) keeps byte-level and SentencePiece merges exact; a trailing
 * U+FFFD means a character is still incomplete, so it is held back.
 */
public final class TextAccumulator {

    private final TextTokenizer tokenizer;
    private final List<String> stopStrings;
    private int[] ids = new int[16];
    private int count;
    private String emitted = "";
    private int stopAt = -1;

    public TextAccumulator(TextTokenizer tokenizer, List<String> stopStrings) {
        this.tokenizer = tokenizer;
        this.stopStrings = stopStrings;
    }

    /** Adds a generated token (never a stop token, which is not part of the text); returns the new text it makes visible (never text at or after a stop string). */
    public String add(int id) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = id;
        String text = tokenizer.decode(Arrays.copyOf(ids, count), true);
        for (String stop : stopStrings) {
            int at = text.indexOf(stop, Math.max(0, emitted.length() - stop.length()));
            if (at >= 0 && (stopAt < 0 || at < stopAt)) {
                stopAt = at;
            }
        }
        String visible = stopAt >= 0 ? text.substring(0, stopAt) : holdBack(text);
        if (visible.length() <= emitted.length() || !visible.startsWith(emitted)) {
            return "";
        }
        String delta = visible.substring(emitted.length());
        emitted = visible;
        return delta;
    }

    /** Keeps back a trailing incomplete character and any suffix that could be the start of a stop string. */
    private String holdBack(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == '\uFFFD') {
            end--;
        }
        int keep = end;
        for (String stop : stopStrings) {
            for (int k = Math.min(stop.length() - 1, end); k > 0; k--) {
                if (text.regionMatches(end - k, stop, 0, k)) {
                    keep = Math.min(keep, end - k);
                    break;
                }
            }
        }
        return text.substring(0, keep);
    }

    public boolean stopped() {
        return stopAt >= 0;
    }

    /** The final text: everything before the first stop string (or all of it). */
    public String finalText() {
        String text = tokenizer.decode(Arrays.copyOf(ids, count), true);
        return stopAt >= 0 ? text.substring(0, Math.min(stopAt, text.length())) : text;
    }

    /** The text not yet emitted by {@link #add}. */
    public String flush() {
        String all = finalText();
        String delta = all.startsWith(emitted) ? all.substring(emitted.length()) : "";
        emitted = all;
        return delta;
    }
}
