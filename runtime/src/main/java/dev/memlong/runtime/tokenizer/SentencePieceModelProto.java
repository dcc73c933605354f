package dev.memlong.runtime.tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of SentencePiece's {@code ModelProto} ({@code tokenizer.model}) that encoding and decoding need, read
 * with a minimal protobuf wire-format parser (the schema is small and stable; a protobuf dependency and generated
 * code would be heavier than these hundred lines). Field numbers are those of {@code sentencepiece_model.proto}.
 */
final class SentencePieceModelProto {

    enum PieceType { NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE }

    enum ModelType { UNIGRAM, BPE, WORD, CHAR }

    record Piece(String piece, float score, PieceType type) {}

    final List<Piece> pieces = new ArrayList<>();
    ModelType modelType = ModelType.UNIGRAM;
    boolean byteFallback;
    boolean treatWhitespaceAsSuffix;
    String unkSurface = " \u2047 ";
    String normalizerName = "";
    byte[] precompiledCharsmap = new byte[0];
    boolean addDummyPrefix = true;
    boolean removeExtraWhitespaces = true;
    boolean escapeWhitespaces = true;
    boolean hasDenormalizer;

    static SentencePieceModelProto parse(byte[] bytes) {
        SentencePieceModelProto m = new SentencePieceModelProto();
        Reader r = new Reader(ByteBuffer.wrap(bytes));
        while (r.more()) {
            long tag = r.varint();
            int field = (int) (tag >>> 3);
            if (field == 1 && (tag & 7) == 2) {
                m.pieces.add(piece(r.message()));
            } else if (field == 2 && (tag & 7) == 2) {
                m.trainerSpec(r.message());
            } else if (field == 3 && (tag & 7) == 2) {
                m.normalizerSpec(r.message());
            } else if (field == 5 && (tag & 7) == 2) {
                Reader d = r.message();
                while (d.more()) { // a denormalizer with rules changes decoding; noted so we can refuse it
                    long t = d.varint();
                    if ((t >>> 3) == 2 && (t & 7) == 2 && d.bytes().length > 0) {
                        m.hasDenormalizer = true;
                    } else if ((t >>> 3) != 2) {
                        d.skip(t);
                    }
                }
            } else {
                r.skip(tag);
            }
        }
        return m;
    }

    private static Piece piece(Reader r) {
        String piece = "";
        float score = 0;
        int type = 1;
        while (r.more()) {
            long tag = r.varint();
            switch ((int) (tag >>> 3)) {
                case 1 -> piece = r.string();
                case 2 -> score = r.fixed32Float();
                case 3 -> type = (int) r.varint();
                default -> r.skip(tag);
            }
        }
        if (type < 1 || type > 6) {
            throw new IllegalArgumentException("piece " + piece + " has unknown type " + type);
        }
        return new Piece(piece, score, PieceType.values()[type - 1]);
    }

    private void trainerSpec(Reader r) {
        while (r.more()) {
            long tag = r.varint();
            switch ((int) (tag >>> 3)) {
                case 3 -> modelType = ModelType.values()[(int) r.varint() - 1];
                case 24 -> treatWhitespaceAsSuffix = r.varint() != 0;
                case 35 -> byteFallback = r.varint() != 0;
                case 44 -> unkSurface = r.string();
                default -> r.skip(tag);
            }
        }
    }

    private void normalizerSpec(Reader r) {
        while (r.more()) {
            long tag = r.varint();
            switch ((int) (tag >>> 3)) {
                case 1 -> normalizerName = r.string();
                case 2 -> precompiledCharsmap = r.bytes();
                case 3 -> addDummyPrefix = r.varint() != 0;
                case 4 -> removeExtraWhitespaces = r.varint() != 0;
                case 5 -> escapeWhitespaces = r.varint() != 0;
                default -> r.skip(tag);
            }
        }
    }

    /** Protobuf wire format: varints, 32/64-bit fixed, length-delimited. */
    private static final class Reader {
        private final ByteBuffer buf;

        Reader(ByteBuffer buf) {
            this.buf = buf.order(ByteOrder.LITTLE_ENDIAN);
        }

        boolean more() {
            return buf.hasRemaining();
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                byte b = buf.get();
                v |= (long) (b & 0x7f) << shift;
                if (b >= 0) {
                    return v;
                }
            }
            throw new IllegalArgumentException("malformed varint");
        }

        float fixed32Float() {
            return buf.getFloat();
        }

        byte[] bytes() {
            long len = varint();
            if (len < 0 || len > buf.remaining()) {
                throw new IllegalArgumentException("field of " + len + " bytes overruns the message");
            }
            byte[] out = new byte[(int) len];
            buf.get(out);
            return out;
        }

        String string() {
            return new String(bytes(), StandardCharsets.UTF_8);
        }

        Reader message() {
            byte[] b = bytes();
            return new Reader(ByteBuffer.wrap(b));
        }

        void skip(long tag) {
            switch ((int) (tag & 7)) {
                case 0 -> varint();
                case 1 -> buf.position(buf.position() + 8);
                case 2 -> bytes();
                case 5 -> buf.position(buf.position() + 4);
                default -> throw new IllegalArgumentException("unsupported wire type " + (tag & 7));
            }
        }
    }
}
