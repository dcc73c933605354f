package dev.memlong.runtime.checkpoint;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/** Decoding of pickle's scalar arguments (integers, floats, protocol 0 text), with the limits of {@link RestrictedUnpickler}. */
final class PickleScalars {

    private PickleScalars() {}

    /** LONG1 / LONG4: a little-endian two's complement integer of {@code length} bytes. */
    static Object littleEndianInt(int length, PickleInput in) {
        if (length < 0 || length > RestrictedUnpickler.MAX_INT_BYTES) {
            throw in.fail("integer of " + length + " bytes exceeds the limit of " + RestrictedUnpickler.MAX_INT_BYTES);
        }
        byte[] le = in.bytes(length, RestrictedUnpickler.MAX_INT_BYTES, "integer");
        if (length == 0) {
            return 0L;
        }
        byte[] be = new byte[length];
        for (int i = 0; i < length; i++) {
            be[i] = le[length - 1 - i];
        }
        return normalize(new BigInteger(be));
    }

    /** INT: decimal text; {@code 01}/{@code 00} are protocol 0's True/False. */
    static Object textInt(String s, PickleInput in) {
        if (s.equals("01")) {
            return Boolean.TRUE;
        } else if (s.equals("00")) {
            return Boolean.FALSE;
        }
        return decimal(s, in);
    }

    /** LONG: decimal text with an optional {@code L} suffix. */
    static Object textLong(String s, PickleInput in) {
        return decimal(s.endsWith("L") ? s.substring(0, s.length() - 1) : s, in);
    }

    static long memoIndex(String s, PickleInput in) {
        Object v = decimal(s, in);
        if (v instanceof Long l && l >= 0) {
            return l;
        }
        throw in.fail("bad memo index " + printable(s));
    }

    static Object textFloat(String s, PickleInput in) {
        try {
            return Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            throw in.fail("bad float literal " + printable(s));
        }
    }

    static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** Python's raw-unicode-escape: latin-1 text where only {@code \\uXXXX} and {@code \\UXXXXXXXX} are escapes. */
    static String rawUnicodeEscape(String line, PickleInput in) {
        StringBuilder sb = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            char kind = c == '\\' && i + 1 < line.length() ? line.charAt(i + 1) : 0;
            int digits = kind == 'u' ? 4 : kind == 'U' ? 8 : 0;
            if (digits > 0 && i + 2 + digits <= line.length()) {
                try {
                    sb.appendCodePoint(Integer.parseInt(line.substring(i + 2, i + 2 + digits), 16));
                } catch (IllegalArgumentException e) {
                    throw in.fail("bad escape in string");
                }
                i += 1 + digits;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A name from a hostile file, safe to put in a message: at most 80 printable ASCII characters. */
    static String printable(String s) {
        String t = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }

    private static Object decimal(String s, PickleInput in) {
        if (s.length() > RestrictedUnpickler.MAX_INT_BYTES * 3) {
            throw in.fail("integer literal too long");
        }
        try {
            return normalize(new BigInteger(s.strip()));
        } catch (NumberFormatException e) {
            throw in.fail("bad integer literal " + printable(s));
        }
    }

    private static Object normalize(BigInteger b) {
        return b.bitLength() < 64 ? (Object) b.longValue() : b;
    }
}
