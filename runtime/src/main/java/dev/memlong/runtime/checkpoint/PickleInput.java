package dev.memlong.runtime.checkpoint;

import java.nio.charset.StandardCharsets;

/**
 * Bounds-checked reads from a pickle's bytes. Every length a pickle declares is checked against what is left
 * before anything is allocated, so a declared size larger than the file is an error, never an allocation.
 */
final class PickleInput {

    private final byte[] data;
    private final String where;
    private int pos;

    PickleInput(byte[] data, String where) {
        this.data = data;
        this.where = where;
    }

    int position() {
        return pos;
    }

    boolean atEnd() {
        return pos >= data.length;
    }

    int u8() {
        need(1);
        return data[pos++] & 0xff;
    }

    int u16() {
        need(2);
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    int i32() {
        need(4);
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | data[pos + 3] << 24;
        pos += 4;
        return v;
    }

    long u32() {
        return i32() & 0xffffffffL;
    }

    long i64() {
        long lo = u32();
        long hi = u32();
        return lo | hi << 32;
    }

    double f64BigEndian() {
        need(8);
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = bits << 8 | (data[pos + i] & 0xff);
        }
        pos += 8;
        return Double.longBitsToDouble(bits);
    }

    /**
     * @param length a length read from the pickle (possibly hostile)
     * @param limit  the most this kind of item may hold
     */
    byte[] bytes(long length, int limit, String what) {
        if (length < 0 || length > limit) {
            throw fail(what + " of " + length + " bytes exceeds the limit of " + limit);
        }
        need(length);
        byte[] out = new byte[(int) length];
        System.arraycopy(data, pos, out, 0, out.length);
        pos += out.length;
        return out;
    }

    String utf8(long length, int limit, String what) {
        return new String(bytes(length, limit, what), StandardCharsets.UTF_8);
    }

    /** A text line (protocol 0 arguments), without its newline. */
    String line(int limit) {
        int start = pos;
        int end = Math.min(data.length, start + limit + 1);
        for (int i = start; i < end; i++) {
            if (data[i] == '\n') {
                pos = i + 1;
                return new String(data, start, i - start, StandardCharsets.ISO_8859_1);
            }
        }
        throw fail(pos + limit < data.length ? "text argument longer than " + limit + " bytes" : "unterminated text argument");
    }

    void skip(long n) {
        need(n);
        pos += (int) n;
    }

    private void need(long n) {
        if (n < 0 || n > data.length - pos) {
            throw fail("truncated: needs " + n + " more bytes, " + (data.length - pos) + " left");
        }
    }

    CheckpointException fail(String message) {
        return new CheckpointException("refused pickle " + where + " at byte " + pos + ": " + message);
    }
}
