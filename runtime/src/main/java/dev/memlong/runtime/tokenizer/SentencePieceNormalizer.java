package dev.memlong.runtime.tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * SentencePiece's normalizer, step for step: user-defined symbols pass unchanged; otherwise the longest rule of the
 * precompiled charsmap (a darts-clone double-array trie, e.g. NFKC) applies, else one UTF-8 character is copied
 * (malformed bytes become U+FFFD); then extra whitespace is removed and spaces become U+2581 as the spec says, with
 * the dummy prefix. Works on byte strings (one char per UTF-8 byte), as the C++ works on bytes.
 */
final class SentencePieceNormalizer {

    static final String SPACE_SYMBOL = utf8Bytes("\u2581");
    private static final String REPLACEMENT = utf8Bytes("\uFFFD");

    private final SentencePieceModelProto spec;
    private final ByteTrie userDefined;
    private final int[] trie;       // darts-clone units, or null
    private final byte[] rules;     // NUL-terminated replacement strings the trie's values point into

    SentencePieceNormalizer(SentencePieceModelProto spec, ByteTrie userDefined) {
        this.spec = spec;
        this.userDefined = userDefined;
        byte[] blob = spec.precompiledCharsmap;
        if (blob.length == 0) {
            trie = null;
            rules = null;
        } else {
            ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
            long trieSize = b.getInt(0) & 0xffffffffL;
            if (blob.length <= 4 || trieSize >= blob.length || trieSize % 4 != 0) {
                throw new IllegalArgumentException("precompiled charsmap is broken");
            }
            trie = new int[(int) trieSize / 4];
            for (int i = 0; i < trie.length; i++) {
                trie[i] = b.getInt(4 + 4 * i);
            }
            rules = java.util.Arrays.copyOfRange(blob, 4 + (int) trieSize, blob.length);
        }
    }

    /** @param text a byte string; @return the normalized byte string */
    String normalize(String text, boolean addDummyPrefix) {
        if (text.isEmpty()) {
            return "";
        }
        int pos = 0;
        if (spec.removeExtraWhitespaces) {
            while (pos < text.length()) {
                String[] p = prefix(text, pos);
                if (!p[0].equals(" ")) {
                    break;
                }
                pos += p[1].length();
            }
            if (pos == text.length()) {
                return "";
            }
        }
        String space = spec.escapeWhitespaces ? SPACE_SYMBOL : " ";
        StringBuilder out = new StringBuilder(text.length() * 3);
        if (!spec.treatWhitespaceAsSuffix && addDummyPrefix) {
            out.append(space);
        }
        boolean prevSpace = spec.removeExtraWhitespaces;
        while (pos < text.length()) {
            String[] p = prefix(text, pos);
            String sp = p[0];
            int start = 0;
            while (prevSpace && start < sp.length() && sp.charAt(start) == ' ') {
                start++;
            }
            if (start < sp.length()) {
                for (int i = start; i < sp.length(); i++) {
                    char c = sp.charAt(i);
                    if (spec.escapeWhitespaces && c == ' ') {
                        out.append(SPACE_SYMBOL);
                    } else {
                        out.append(c);
                    }
                }
                prevSpace = sp.charAt(sp.length() - 1) == ' ';
            }
            pos += p[1].length();
            if (!spec.removeExtraWhitespaces) {
                prevSpace = false;
            }
        }
        if (spec.removeExtraWhitespaces) {
            while (out.length() >= space.length() && out.substring(out.length() - space.length()).equals(space)) {
                out.setLength(out.length() - space.length());
            }
        }
        if (spec.treatWhitespaceAsSuffix && addDummyPrefix) {
            out.append(space);
        }
        return out.toString();
    }

    /** @return {normalized replacement, consumed input} for the text at {@code pos} */
    private String[] prefix(String text, int pos) {
        int user = userDefined.longestPrefix(text, pos);
        if (user > 0) {
            String s = text.substring(pos, pos + user);
            return new String[] {s, s};
        }
        if (trie != null) {
            int[] best = longestRule(text, pos);
            if (best[0] > 0) {
                int end = best[1];
                while (end < rules.length && rules[end] != 0) {
                    end++;
                }
                return new String[] {new String(rules, best[1], end - best[1], java.nio.charset.StandardCharsets.ISO_8859_1),
                        text.substring(pos, pos + best[0])};
            }
        }
        int len = Utf8.validCharLength(text, pos);
        if (len == 0) {
            return new String[] {REPLACEMENT, text.substring(pos, pos + 1)};
        }
        String s = text.substring(pos, pos + len);
        return new String[] {s, s};
    }

    /** darts-clone commonPrefixSearch, keeping the longest match: {length, value}. */
    private int[] longestRule(String text, int pos) {
        int[] best = {0, 0};
        int node = offset(trie[0]);
        for (int i = pos; i < text.length(); i++) {
            int label = text.charAt(i);
            node ^= label;
            if (node < 0 || node >= trie.length) {
                break;
            }
            int unit = trie[node];
            if ((unit & ((1 << 31) | 0xff)) != label) {
                break;
            }
            node ^= offset(unit);
            if (((unit >>> 8) & 1) == 1 && node >= 0 && node < trie.length) {
                best[0] = i - pos + 1;
                best[1] = trie[node] & 0x7fffffff;
            }
        }
        return best;
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    static String utf8Bytes(String s) {
        return new String(s.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
