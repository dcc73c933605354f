package dev.memlong.runtime.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Segments normalized text into pieces exactly as SentencePiece's models do: BPE ({@code bpe_model.cc}: merge the
 * best-scoring adjacent pair, leftmost on ties, user-defined symbols frozen, unused pieces resegmented) and unigram
 * ({@code unigram_model.cc} EncodeOptimized: Viterbi over all vocabulary pieces, unknown characters at
 * min score - 10, user-defined pieces boosted), with the float arithmetic of the C++.
 */
final class SentencePieceSegmenter {

    /** A segment: its byte-string surface and id (the unknown id for out-of-vocabulary surfaces). */
    record Segment(String piece, int id) {}

    private static final float UNK_PENALTY = 10.0f;

    private SentencePieceSegmenter() {}

    static List<Segment> bpe(SentencePieceVocab vocab, String text) {
        int n = 0;
        List<int[]> spans = new ArrayList<>(); // {start, length, frozen}
        for (int pos = 0; pos < text.length(); ) {
            int user = vocab.userDefinedTrie.longestPrefix(text, pos);
            int len = user > 0 ? user : Utf8.oneCharLen(text, pos);
            spans.add(new int[] {pos, len, user > 0 ? 1 : 0});
            pos += len;
        }
        n = spans.size();
        if (n == 0) {
            return List.of();
        }
        int[] start = new int[n];
        int[] len = new int[n];
        boolean[] frozen = new boolean[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = spans.get(i)[0];
            len[i] = spans.get(i)[1];
            frozen[i] = spans.get(i)[2] == 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // pairs: {left, right, size}; score kept beside; best score first, then leftmost
        record Pair(int left, int right, int size, float score) {}
        PriorityQueue<Pair> agenda = new PriorityQueue<>((a, b) -> a.score() != b.score()
                ? Float.compare(b.score(), a.score()) : Integer.compare(a.left(), b.left()));
        Map<String, String[]> revMerge = new HashMap<>();
        java.util.function.BiConsumer<Integer, Integer> maybeAdd = (l, r) -> {
            if (l == -1 || r == -1 || frozen[l] || frozen[r]) {
                return;
            }
            String piece = text.substring(start[l], start[l] + len[l] + len[r]);
            Integer id = vocab.segmentable.get(piece);
            if (id == null) {
                return;
            }
            agenda.add(new Pair(l, r, piece.length(), vocab.scores[id]));
            if (vocab.isUnused(id)) {
                revMerge.put(piece, new String[] {text.substring(start[l], start[l] + len[l]),
                        text.substring(start[r], start[r] + len[r])});
            }
        };
        for (int i = 0; i + 1 < n; i++) {
            maybeAdd.accept(i, i + 1);
        }
        while (!agenda.isEmpty()) {
            Pair top = agenda.poll();
            if (len[top.left()] == 0 || len[top.right()] == 0 || len[top.left()] + len[top.right()] != top.size()) {
                continue; // stale
            }
            len[top.left()] += len[top.right()];
            next[top.left()] = next[top.right()];
            if (next[top.right()] >= 0) {
                prev[next[top.right()]] = top.left();
            }
            len[top.right()] = 0;
            maybeAdd.accept(prev[top.left()], top.left());
            maybeAdd.accept(top.left(), next[top.left()]);
        }
        List<Segment> out = new ArrayList<>();
        for (int i = 0; i != -1; i = next[i]) {
            resegment(vocab, text.substring(start[i], start[i] + len[i]), revMerge, out, 0);
        }
        return out;
    }

    private static void resegment(SentencePieceVocab vocab, String w, Map<String, String[]> revMerge,
                                  List<Segment> out, int depth) {
        int id = vocab.pieceToId(w);
        String[] parts = vocab.isUnused(id) && depth < 64 ? revMerge.get(w) : null;
        if (parts == null) {
            out.add(new Segment(w, id));
            return;
        }
        resegment(vocab, parts[0], revMerge, out, depth + 1);
        resegment(vocab, parts[1], revMerge, out, depth + 1);
    }

    static List<Segment> unigram(SentencePieceVocab vocab, String text) {
        int size = text.length();
        float unkScore = vocab.minScore - UNK_PENALTY;
        float[] best = new float[size + 1];
        int[] startsAt = new int[size + 1];
        int[] ids = new int[size + 1];
        java.util.Arrays.fill(startsAt, -1);
        for (int pos = 0; pos < size; ) {
            final int from = pos;
            final float tillHere = best[from];
            final int mblen = Utf8.oneCharLen(text, from);
            boolean[] hasSingle = {false};
            vocab.segmentableTrie.prefixes(text, from, (length, id) -> {
                if (vocab.isUnused(id)) {
                    return;
                }
                int end = from + length;
                // The C++ ternary makes the score a double (length * max_score_ is float, minus the double 0.1),
                // so candidates are compared in double against the stored float and then stored as float.
                double score = vocab.isUserDefined(id) ? (double) ((float) length * vocab.maxScore) - 0.1 : vocab.scores[id];
                double candidate = score + tillHere;
                if (startsAt[end] == -1 || candidate > best[end]) {
                    set(best, startsAt, ids, end, (float) candidate, from, id);
                }
                if (length == mblen) {
                    hasSingle[0] = true;
                }
            });
            if (!hasSingle[0]) {
                int end = from + mblen;
                float candidate = unkScore + tillHere; // float + float in the C++ too
                if (startsAt[end] == -1 || candidate > best[end]) {
                    set(best, startsAt, ids, end, candidate, from, vocab.unkId);
                }
            }
            pos += mblen;
        }
        List<Segment> out = new ArrayList<>();
        for (int end = size; end > 0; end = startsAt[end]) {
            out.add(new Segment(text.substring(startsAt[end], end), ids[end]));
        }
        java.util.Collections.reverse(out);
        return out;
    }

    private static void set(float[] best, int[] startsAt, int[] ids, int end, float score, int from, int id) {
        best[end] = score;
        startsAt[end] = from;
        ids[end] = id;
    }
}
