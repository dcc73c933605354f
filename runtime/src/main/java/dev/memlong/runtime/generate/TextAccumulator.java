package dev.memlong.runtime.generate;

import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.Arrays;
import java.util.List;

/**
 * Turns a growing list of generated ids into text deltas and watches for stop strings.
 *
 * <p>Decoding is incremental, as vLLM's detokenizer does it: each token decodes only the ids from
 * {@code prefixOffset} (a few tokens back) to the end, and the text it adds is the difference to the decoded
 * {@code prefixOffset..readOffset} span. Both decodes start at the same token, so SentencePiece's stripped leading
 * space, byte-level merges and WordPiece's punctuation clean-up affect both alike and the difference is exact. A
 * trailing U+FFFD means a character is still incomplete, and a trailing apostrophe may still be joined to the next
 * word by WordPiece's clean-up: nothing is added until the text is settled. (Decoding the whole
 * continuation at every token, as this class first did, costs O(n) per token: a 2,000-token reply then spent
 * about as long in the tokenizer as in the model.)
 */
public final class TextAccumulator {

    private final TextTokenizer tokenizer;
    private final List<String> stopStrings;
    private int[] ids = new int[16];
    private int count;
    /** The complete text of {@code ids[0, readOffset)}. */
    private final StringBuilder decoded = new StringBuilder();
    private int prefixOffset;
    private int readOffset;
    /** How much of {@code decoded} {@link #add} has returned. */
    private int emitted;
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
        String prefix = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, readOffset), true);
        String text = tokenizer.decode(Arrays.copyOfRange(ids, prefixOffset, count), true);
        if (text.length() > prefix.length() && !pending(text)) {
            decoded.append(text, prefix.length(), text.length());
            prefixOffset = readOffset;
            readOffset = count;
        }
        for (String stop : stopStrings) {
            int at = decoded.indexOf(stop, Math.max(0, emitted - stop.length()));
            if (at >= 0 && (stopAt < 0 || at < stopAt)) {
                stopAt = at;
            }
        }
        int visible = stopAt >= 0 ? stopAt : holdBack();
        if (visible <= emitted) {
            return "";
        }
        String delta = decoded.substring(emitted, visible);
        emitted = visible;
        return delta;
    }

    /**
     * Whether the text's end may still change with the next token, so it is not committed yet: an incomplete
     * character (U+FFFD), or an apostrophe, which a decoder's clean-up joins to what follows ("son ' s" becomes
     * "son's" only once the "s" is there).
     */
    private static boolean pending(String text) {
        return text.endsWith("\uFFFD") || text.endsWith("'");
    }

    /** The end of {@code decoded} less any suffix that could be the start of a stop string. */
    private int holdBack() {
        int end = decoded.length();
        int keep = end;
        for (String stop : stopStrings) {
            for (int k = Math.min(stop.length() - 1, end); k > 0; k--) {
                if (endsWithPrefix(end, stop, k)) {
                    keep = Math.min(keep, end - k);
                    break;
                }
            }
        }
        return keep;
    }

    /** Whether {@code decoded[end - k, end)} equals the first {@code k} characters of {@code stop}. */
    private boolean endsWithPrefix(int end, String stop, int k) {
        for (int i = 0; i < k; i++) {
            if (decoded.charAt(end - k + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
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
        String before = decoded.substring(0, emitted);
        String delta = all.startsWith(before) ? all.substring(before.length()) : "";
        emitted = decoded.length(); // nothing more is added after a flush
        return delta;
    }
}
