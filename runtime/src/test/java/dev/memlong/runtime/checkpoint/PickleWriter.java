package dev.memlong.runtime.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Emits pickle opcodes, for writing torch-shaped (and hostile) pickles in tests. */
final class PickleWriter {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int memo;

    PickleWriter op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleWriter proto(int version) {
        return op(0x80).op(version);
    }

    PickleWriter global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        return this;
    }

    PickleWriter string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        le32(b.length);
        out.writeBytes(b);
        return this;
    }

    /** Integers the way pickle protocol 2 writes them: BININT1, BININT2, BININT or LONG1. */
    PickleWriter integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').op((int) v);
        } else if (v >= 0 && v < 65536) {
            return op('M').op((int) (v & 0xff)).op((int) (v >>> 8));
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op('J');
            return le32((int) v);
        }
        op(0x8a).op(8);
        for (int i = 0; i < 8; i++) {
            out.write((int) (v >>> (8 * i)));
        }
        return this;
    }

    /** A tuple of ints as torch writes sizes and strides: EMPTY_TUPLE, TUPLE1-3, or MARK ... TUPLE. */
    PickleWriter intTuple(long[] values) {
        if (values.length == 0) {
            return op(')');
        }
        if (values.length > 3) {
            op('(');
        }
        for (long v : values) {
            integer(v);
        }
        return op(values.length > 3 ? 't' : 0x84 + values.length);
    }

    /** BINPUT / LONG_BINPUT of the next memo index; returns that index. */
    int put() {
        int index = memo++;
        if (index < 256) {
            op('q').op(index);
        } else {
            op('r');
            le32(index);
        }
        return index;
    }

    PickleWriter get(int index) {
        if (index < 256) {
            return op('h').op(index);
        }
        op('j');
        return le32(index);
    }

    PickleWriter le32(int v) {
        for (int i = 0; i < 4; i++) {
            out.write(v >>> (8 * i));
        }
        return this;
    }

    PickleWriter raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
