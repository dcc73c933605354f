package dev.memlong.runtime.tokenizer;

import dev.memlong.runtime.tokenizer.SentencePieceModelProto.Piece;
import dev.memlong.runtime.tokenizer.SentencePieceModelProto.PieceType;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The pieces of a SentencePiece model indexed as its {@code ModelInterface} indexes them: normal, user-defined and
 * unused pieces can be produced by segmentation; control, unknown and byte pieces are reserved (found by id only).
 * All piece strings are byte strings (one char per UTF-8 byte).
 */
final class SentencePieceVocab {

    final String[] pieces;
    final float[] scores;
    final PieceType[] types;
    final Map<String, Integer> segmentable = new HashMap<>();
    final Map<String, Integer> reserved = new HashMap<>();
    final ByteTrie segmentableTrie = new ByteTrie();
    final ByteTrie userDefinedTrie = new ByteTrie();
    final int[] byteIds = new int[256];
    final int unkId;
    final float minScore;
    final float maxScore;

    SentencePieceVocab(SentencePieceModelProto model) {
        int n = model.pieces.size();
        pieces = new String[n];
        scores = new float[n];
        types = new PieceType[n];
        Arrays.fill(byteIds, -1);
        int unk = -1;
        float min = Float.MAX_VALUE;
        float max = Float.MIN_VALUE; // as the C++ initializes max_score_ (FLT_MIN)
        for (int i = 0; i < n; i++) {
            Piece p = model.pieces.get(i);
            pieces[i] = SentencePieceNormalizer.utf8Bytes(p.piece());
            scores[i] = p.score();
            types[i] = p.type();
            boolean normalLike = p.type() == PieceType.NORMAL || p.type() == PieceType.USER_DEFINED
                    || p.type() == PieceType.UNUSED;
            if ((normalLike ? segmentable : reserved).putIfAbsent(pieces[i], i) != null) {
                throw new IllegalArgumentException("piece " + p.piece() + " is defined twice");
            }
            if (normalLike) {
                segmentableTrie.put(pieces[i], i);
            }
            if (p.type() == PieceType.USER_DEFINED) {
                userDefinedTrie.put(pieces[i], i);
            }
            if (p.type() == PieceType.NORMAL) {
                min = Math.min(min, p.score());
                max = Math.max(max, p.score());
            }
            if (p.type() == PieceType.UNKNOWN) {
                unk = i;
            }
            if (p.type() == PieceType.BYTE) {
                int b = byteOf(p.piece());
                if (b < 0) {
                    throw new IllegalArgumentException("byte piece " + p.piece() + " is not <0xXX>");
                }
                byteIds[b] = i;
            }
        }
        if (unk < 0) {
            throw new IllegalArgumentException("the model has no unknown piece");
        }
        unkId = unk;
        minScore = min;
        maxScore = max;
    }

    /** {@code PieceToId}: reserved pieces first, then segmentable ones, else the unknown id. */
    int pieceToId(String bytePiece) {
        Integer id = reserved.get(bytePiece);
        if (id == null) {
            id = segmentable.get(bytePiece);
        }
        return id == null ? unkId : id;
    }

    boolean isControl(int id) {
        return types[id] == PieceType.CONTROL;
    }

    boolean isUnknown(int id) {
        return types[id] == PieceType.UNKNOWN;
    }

    boolean isUnused(int id) {
        return types[id] == PieceType.UNUSED;
    }

    boolean isUserDefined(int id) {
        return types[id] == PieceType.USER_DEFINED;
    }

    boolean isByte(int id) {
        return types[id] == PieceType.BYTE;
    }

    /** The byte of a {@code <0xXX>} piece, or -1. */
    static int byteOf(String piece) {
        if (piece.length() != 6 || !piece.startsWith("<0x") || !piece.endsWith(">")) {
            return -1;
        }
        try {
            return Integer.parseInt(piece.substring(3, 5), 16);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
