package dev.memlong.runtime.tokenizer;

import java.util.HashMap;

/**
 * A trie over byte strings (Java strings whose chars are the bytes 0-255 of UTF-8 text), used for SentencePiece's
 * vocabulary lookups: longest prefix matches and enumerating every piece that starts at a position.
 */
final class ByteTrie {

    private static final class Node {
        final HashMap<Character, Node> children = new HashMap<>(4);
        int value = -1;
    }

    private final Node root = new Node();

    void put(String key, int value) {
        Node n = root;
        for (int i = 0; i < key.length(); i++) {
            n = n.children.computeIfAbsent(key.charAt(i), c -> new Node());
        }
        n.value = value;
    }

    boolean isEmpty() {
        return root.children.isEmpty();
    }

    /** Receives each (length, value) of a key that is a prefix of the text at a position, shortest first. */
    interface PrefixVisitor {
        void visit(int length, int value);
    }

    void prefixes(String text, int from, PrefixVisitor visitor) {
        Node n = root;
        for (int i = from; i < text.length(); i++) {
            n = n.children.get(text.charAt(i));
            if (n == null) {
                return;
            }
            if (n.value >= 0) {
                visitor.visit(i - from + 1, n.value);
            }
        }
    }

    /** The length of the longest key that prefixes the text at {@code from}, or 0. */
    int longestPrefix(String text, int from) {
        int[] best = {0};
        prefixes(text, from, (len, v) -> best[0] = len);
        return best[0];
    }
}
