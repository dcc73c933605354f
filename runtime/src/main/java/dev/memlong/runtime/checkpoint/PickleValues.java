package dev.memlong.runtime.checkpoint;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The Python values {@link RestrictedUnpickler} builds: Java boxes for scalars ({@code Long}, {@code BigInteger},
 * {@code Double}, {@code Boolean}, {@code String}, {@code byte[]}, {@code null} for None) and the containers below.
 * Every container knows its nesting depth, so that a pickle cannot build a structure deep enough to overflow the
 * stack of whatever walks it later; nothing in the reader recurses over values without a depth bound.
 */
final class PickleValues {

    private PickleValues() {}

    /** An immutable tuple; its depth is exact because its items existed before it. */
    record PyTuple(List<Object> items, int depth) {
        PyTuple(List<Object> items) {
            this(List.copyOf(nullSafe(items)), 1 + maxDepth(items));
        }

        Object get(int i) {
            Object v = items.get(i);
            return v == NONE ? null : v;
        }

        int size() {
            return items.size();
        }
    }

    /** A list; {@code depth} is raised as items are appended. */
    static final class PyList {
        final ArrayList<Object> items = new ArrayList<>();
        int depth = 1;
    }

    /** A dict or OrderedDict (insertion order is kept, as both keep it in Python 3.7+). */
    static final class PyDict {
        final LinkedHashMap<Object, Object> items = new LinkedHashMap<>();
        int depth = 1;
    }

    /** A set or frozenset. */
    static final class PySet {
        final LinkedHashSet<Object> items = new LinkedHashSet<>();
        int depth = 1;
    }

    /** Stands for None inside immutable lists ({@code List.copyOf} refuses nulls). */
    static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };

    private static List<Object> nullSafe(List<Object> items) {
        List<Object> out = new ArrayList<>(items.size());
        for (Object o : items) {
            out.add(o == null ? NONE : o);
        }
        return out;
    }

    static int depthOf(Object v) {
        if (v instanceof PyTuple t) {
            return t.depth();
        } else if (v instanceof PyList l) {
            return l.depth;
        } else if (v instanceof PyDict d) {
            return d.depth;
        } else if (v instanceof PySet s) {
            return s.depth;
        }
        return 0;
    }

    static int maxDepth(List<Object> items) {
        int d = 0;
        for (Object o : items) {
            d = Math.max(d, depthOf(o));
        }
        return d;
    }

    /**
     * Whether {@code v} may be a dict key or set member: scalars and tuples of such. Mutable containers are
     * unhashable in Python too, and refusing them keeps hashCode/equals from recursing into cycles.
     */
    static boolean isHashable(Object v) {
        if (v == null || v == NONE || v instanceof String || v instanceof Long || v instanceof BigInteger
                || v instanceof Double || v instanceof Boolean) {
            return true;
        }
        if (v instanceof PyTuple t) {
            for (Object o : t.items()) {
                if (!isHashable(o)) { // bounded: tuple depth is capped at construction
                    return false;
                }
            }
            return true;
        }
        return false;
    }

    /** A short description of a value for error messages: never recursive, never long. */
    static String describe(Object v) {
        if (v == null || v == NONE) {
            return "None";
        } else if (v instanceof String s) {
            return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
        } else if (v instanceof Long || v instanceof Double || v instanceof Boolean || v instanceof TorchGlobal) {
            return v.toString();
        } else if (v instanceof BigInteger b) {
            return b.bitLength() > 64 ? "a " + b.bitLength() + "-bit int" : b.toString();
        } else if (v instanceof PyTuple t) {
            return "a tuple of " + t.size();
        } else if (v instanceof PyList l) {
            return "a list of " + l.items.size();
        } else if (v instanceof PyDict d) {
            return "a dict of " + d.items.size();
        } else if (v instanceof PySet s) {
            return "a set of " + s.items.size();
        } else if (v instanceof byte[] b) {
            return b.length + " bytes";
        } else if (v instanceof TorchStorage s) {
            return "storage " + s.key();
        } else if (v instanceof TorchTensorView) {
            return "a tensor";
        }
        return v.getClass().getSimpleName();
    }
}
