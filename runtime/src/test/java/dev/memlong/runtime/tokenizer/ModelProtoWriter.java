package dev.memlong.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes a minimal SentencePiece ModelProto (protobuf wire format) for tests. */
final class ModelProtoWriter {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ModelProtoWriter piece(String piece, float score, int type) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        bytesField(p, 1, piece.getBytes(StandardCharsets.UTF_8));
        varint(p, 2 << 3 | 5);
        int bits = Float.floatToIntBits(score);
        for (int i = 0; i < 4; i++) {
            p.write(bits >>> (8 * i));
        }
        varint(p, 3 << 3);
        varint(p, type);
        bytesField(out, 1, p.toByteArray());
        return this;
    }

    ModelProtoWriter modelType(int type) {
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        varint(t, 3 << 3);
        varint(t, type);
        bytesField(out, 2, t.toByteArray());
        return this;
    }

    ModelProtoWriter normalizer(boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
        ByteArrayOutputStream n = new ByteArrayOutputStream();
        bytesField(n, 1, "identity".getBytes(StandardCharsets.UTF_8));
        varint(n, 3 << 3);
        varint(n, addDummyPrefix ? 1 : 0);
        varint(n, 4 << 3);
        varint(n, removeExtraWhitespaces ? 1 : 0);
        varint(n, 5 << 3);
        varint(n, escapeWhitespaces ? 1 : 0);
        bytesField(out, 3, n.toByteArray());
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    private static void bytesField(ByteArrayOutputStream o, int field, byte[] b) {
        varint(o, field << 3 | 2);
        varint(o, b.length);
        o.writeBytes(b);
    }

    private static void varint(ByteArrayOutputStream o, long v) {
        while ((v & ~0x7fL) != 0) {
            o.write((int) (v & 0x7f) | 0x80);
            v >>>= 7;
        }
        o.write((int) v);
    }
}
