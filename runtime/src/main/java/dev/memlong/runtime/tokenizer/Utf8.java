package dev.memlong.runtime.tokenizer;

/** SentencePiece's UTF-8 validity rules ({@code DecodeUTF8}) over byte strings (one char per byte). */
final class Utf8 {

    private Utf8() {}

    /**
     * The length of the well-formed UTF-8 character at {@code pos} (no overlongs, no surrogates, at most U+10FFFF),
     * or 0 when the bytes there are malformed.
     */
    static int validCharLength(String s, int pos) {
        int n = s.length() - pos;
        int b0 = s.charAt(pos);
        if (b0 < 0x80) {
            return 1;
        }
        if (n >= 2 && (b0 & 0xe0) == 0xc0) {
            int cp = (b0 & 0x1f) << 6 | (s.charAt(pos + 1) & 0x3f);
            return trail(s, pos + 1) && cp >= 0x80 ? 2 : 0;
        }
        if (n >= 3 && (b0 & 0xf0) == 0xe0) {
            int cp = (b0 & 0x0f) << 12 | (s.charAt(pos + 1) & 0x3f) << 6 | (s.charAt(pos + 2) & 0x3f);
            return trail(s, pos + 1) && trail(s, pos + 2) && cp >= 0x800 && valid(cp) ? 3 : 0;
        }
        if (n >= 4 && (b0 & 0xf8) == 0xf0) {
            int cp = (b0 & 0x07) << 18 | (s.charAt(pos + 1) & 0x3f) << 12 | (s.charAt(pos + 2) & 0x3f) << 6
                    | (s.charAt(pos + 3) & 0x3f);
            return trail(s, pos + 1) && trail(s, pos + 2) && trail(s, pos + 3) && cp >= 0x10000 && valid(cp) ? 4 : 0;
        }
        return 0;
    }

    /** The length of one character as SentencePiece steps over text ({@code OneCharLen}: by the lead byte only). */
    static int oneCharLen(String s, int pos) {
        int b0 = s.charAt(pos);
        int len = b0 < 0x80 ? 1 : b0 < 0xc0 ? 1 : b0 < 0xe0 ? 2 : b0 < 0xf0 ? 3 : 4;
        return Math.min(len, s.length() - pos);
    }

    private static boolean trail(String s, int i) {
        return (s.charAt(i) & 0xc0) == 0x80;
    }

    private static boolean valid(int cp) {
        return cp < 0xd800 || (cp >= 0xe000 && cp <= 0x10ffff);
    }
}
