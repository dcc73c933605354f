package dev.memlong.runtime.checkpoint;

import dev.memlong.runtime.checkpoint.PickleValues.PyDict;
import dev.memlong.runtime.checkpoint.PickleValues.PyList;
import dev.memlong.runtime.checkpoint.PickleValues.PySet;
import dev.memlong.runtime.checkpoint.PickleValues.PyTuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A pickle interpreter that knows only what a PyTorch {@code state_dict} needs, the Java counterpart of
 * {@code torch.load(weights_only=True)}: scalars, strings, bytes, tuples, lists, dicts, sets, the globals of
 * {@link TorchGlobal} (called only through {@link TorchRebuild}) and storages through persistent ids. Opcodes
 * that construct arbitrary objects ({@code INST}, {@code OBJ}, {@code NEWOBJ}, extensions, out-of-band buffers)
 * and every other global are refused with a {@link CheckpointException} naming the file, the byte and the item.
 *
 * <p>A hostile pickle cannot hang it (each opcode consumes input and does bounded work), nor make it allocate
 * beyond a constant factor of the pickle's size (declared lengths are checked against the bytes left; stack, mark
 * stack, memo, containers and nesting depth are capped), nor overflow the Java stack (no recursion over values).
 */
final class RestrictedUnpickler {

    static final int MAX_STACK = 100_000;
    static final int MAX_MARKS = 64;
    static final int MAX_DEPTH = 64;
    static final int MAX_MEMO = 1_000_000;
    static final int MAX_CONTAINER = 1_000_000;
    static final int MAX_STRING_BYTES = 1 << 20;
    static final int MAX_INT_BYTES = 64;
    static final int MAX_LINE = 1024;

    private final PickleInput in;
    private final Function<Object, TorchStorage> persistentLoad;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    /**
     * @param persistentLoad resolves a {@code BINPERSID} id to a storage, refusing ids it does not accept
     */
    RestrictedUnpickler(byte[] pickle, String where, Function<Object, TorchStorage> persistentLoad) {
        this.in = new PickleInput(pickle, where);
        this.persistentLoad = persistentLoad;
    }

    /** Runs the pickle to its {@code STOP} and returns the value it built. */
    Object load() {
        while (true) {
            int op = in.u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = in.u8();
                    if (v > 5) {
                        throw in.fail("pickle protocol " + v + " is newer than 5");
                    }
                }
                case 0x95 -> in.i64(); // FRAME: a length hint only
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw in.fail("STOP with " + stack.size() + " values and " + marks.size() + " open marks");
                    }
                    return unwrap(stack.get(0));
                }
                case '(' -> { // MARK
                    if (marks.size() >= MAX_MARKS) {
                        throw in.fail("more than " + MAX_MARKS + " nested marks");
                    }
                    marks.add(stack.size());
                }
                case '0' -> { // POP: an empty frame above a mark pops the mark, as Python does
                    if (!marks.isEmpty() && stack.size() == marks.get(marks.size() - 1)) {
                        popMark();
                    } else {
                        pop();
                    }
                }
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'K' -> push((long) in.u8()); // BININT1
                case 'M' -> push((long) in.u16()); // BININT2
                case 'J' -> push((long) in.i32()); // BININT
                case 'I' -> push(PickleScalars.textInt(in.line(MAX_LINE), in));
                case 'L' -> push(PickleScalars.textLong(in.line(MAX_LINE), in));
                case 0x8a -> push(PickleScalars.littleEndianInt(in.u8(), in)); // LONG1
                case 0x8b -> push(PickleScalars.littleEndianInt(in.i32(), in)); // LONG4
                case 'F' -> push(PickleScalars.textFloat(in.line(MAX_LINE), in));
                case 'G' -> push(in.f64BigEndian()); // BINFLOAT
                case 'X' -> push(in.utf8(in.u32(), MAX_STRING_BYTES, "string")); // BINUNICODE
                case 0x8c -> push(in.utf8(in.u8(), MAX_STRING_BYTES, "string")); // SHORT_BINUNICODE
                case 0x8d -> push(in.utf8(in.i64(), MAX_STRING_BYTES, "string")); // BINUNICODE8
                case 'V' -> push(PickleScalars.rawUnicodeEscape(in.line(MAX_STRING_BYTES), in)); // UNICODE
                case 'T' -> push(PickleScalars.latin1(in.bytes(in.u32(), MAX_STRING_BYTES, "string"))); // BINSTRING
                case 'U' -> push(PickleScalars.latin1(in.bytes(in.u8(), MAX_STRING_BYTES, "string"))); // SHORT_BINSTRING
                case 'B' -> push(in.bytes(in.u32(), MAX_STRING_BYTES, "bytes")); // BINBYTES
                case 'C' -> push(in.bytes(in.u8(), MAX_STRING_BYTES, "bytes")); // SHORT_BINBYTES
                case 0x8e, 0x96 -> push(in.bytes(in.i64(), MAX_STRING_BYTES, "bytes")); // BINBYTES8, BYTEARRAY8
                case ')' -> push(new PyTuple(List.of()));
                case 't' -> push(tuple(popMark()));
                case 0x85 -> push(tuple(popN(1)));
                case 0x86 -> push(tuple(popN(2)));
                case 0x87 -> push(tuple(popN(3)));
                case ']' -> push(new PyList());
                case 'l' -> push(appendAll(new PyList(), popMark()));
                case 'a' -> {
                    Object v = pop();
                    appendAll(peekAs(PyList.class, "APPEND"), List.of(v == null ? PickleValues.NONE : v));
                }
                case 'e' -> {
                    List<Object> items = popMark();
                    appendAll(peekAs(PyList.class, "APPENDS"), items);
                }
                case '}' -> push(new PyDict());
                case 'd' -> push(setItems(new PyDict(), popMark()));
                case 's' -> {
                    List<Object> kv = popN(2);
                    setItems(peekAs(PyDict.class, "SETITEM"), kv);
                }
                case 'u' -> {
                    List<Object> kv = popMark();
                    setItems(peekAs(PyDict.class, "SETITEMS"), kv);
                }
                case 0x8f -> push(new PySet()); // EMPTY_SET
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark();
                    addItems(peekAs(PySet.class, "ADDITEMS"), items);
                }
                case 0x91 -> push(addItems(new PySet(), popMark())); // FROZENSET
                case 'p' -> memoPut(PickleScalars.memoIndex(in.line(MAX_LINE), in)); // PUT
                case 'q' -> memoPut(in.u8()); // BINPUT
                case 'r' -> memoPut(in.u32()); // LONG_BINPUT
                case 0x94 -> memoPut(memo.size()); // MEMOIZE
                case 'g' -> memoGet(PickleScalars.memoIndex(in.line(MAX_LINE), in)); // GET
                case 'h' -> memoGet(in.u8()); // BINGET
                case 'j' -> memoGet(in.u32()); // LONG_BINGET
                case 'c' -> push(global(in.line(MAX_LINE), in.line(MAX_LINE))); // GLOBAL
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw in.fail("STACK_GLOBAL of " + PickleValues.describe(module) + ", " + PickleValues.describe(name));
                    }
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(TorchRebuild.reduce(callable, args, in));
                }
                case 'b' -> { // BUILD
                    Object state = pop();
                    TorchRebuild.build(peek(), state, in);
                }
                case 'Q' -> push(persistentLoad.apply(pop())); // BINPERSID
                case 'P' -> throw in.fail("text persistent id (PERSID) refused: torch writes BINPERSID");
                case 'i' -> throw in.fail("INST refused: it instantiates arbitrary classes");
                case 'o' -> throw in.fail("OBJ refused: it instantiates arbitrary classes");
                case 0x81, 0x92 -> throw in.fail("NEWOBJ refused: it instantiates arbitrary classes");
                case 0x82, 0x83, 0x84 -> throw in.fail("extension registry codes (EXT) refused");
                case 0x97, 0x98 -> throw in.fail("out-of-band buffers refused");
                default -> throw in.fail(String.format("unknown opcode 0x%02x", op));
            }
        }
    }

    private Object global(String module, String name) {
        return TorchGlobal.lookup(module, name).orElseThrow(() -> in.fail("global " + PickleScalars.printable(module) + "."
                + PickleScalars.printable(name) + " is not allowed (only state-dict types are: OrderedDict, torch tensor "
                + "rebuild functions and storages)"));
    }

    private void push(Object v) {
        if (stack.size() >= MAX_STACK) {
            throw in.fail("stack deeper than " + MAX_STACK + " values");
        }
        stack.add(v);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) {
            throw in.fail("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.isEmpty()) {
            throw in.fail("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private <T> T peekAs(Class<T> type, String op) {
        Object top = peek();
        if (!type.isInstance(top)) {
            throw in.fail(op + " on " + PickleValues.describe(top));
        }
        return type.cast(top);
    }

    private List<Object> popN(int n) {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() - n < floor) {
            throw in.fail("stack underflow");
        }
        List<Object> sub = stack.subList(stack.size() - n, stack.size());
        List<Object> out = new ArrayList<>(sub);
        sub.clear();
        return out;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw in.fail("no MARK to pop to");
        }
        int at = marks.remove(marks.size() - 1);
        List<Object> sub = stack.subList(at, stack.size());
        List<Object> out = new ArrayList<>(sub);
        sub.clear();
        return out;
    }

    private PyTuple tuple(List<Object> items) {
        checkSize(items.size());
        PyTuple t = new PyTuple(items);
        checkDepth(t.depth());
        return t;
    }

    private PyList appendAll(PyList list, List<Object> items) {
        checkSize((long) list.items.size() + items.size());
        for (Object v : items) {
            list.depth = Math.max(list.depth, 1 + PickleValues.depthOf(v));
            list.items.add(v);
        }
        checkDepth(list.depth);
        return list;
    }

    private PyDict setItems(PyDict dict, List<Object> kv) {
        if (kv.size() % 2 != 0) {
            throw in.fail("odd number of items for a dict");
        }
        checkSize((long) dict.items.size() + kv.size() / 2);
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = kv.get(i);
            if (!PickleValues.isHashable(k)) {
                throw in.fail("unhashable dict key " + PickleValues.describe(k));
            }
            Object v = kv.get(i + 1);
            dict.depth = Math.max(dict.depth, 1 + Math.max(PickleValues.depthOf(k), PickleValues.depthOf(v)));
            dict.items.put(k == null ? PickleValues.NONE : k, v);
        }
        checkDepth(dict.depth);
        return dict;
    }

    private PySet addItems(PySet set, List<Object> items) {
        checkSize((long) set.items.size() + items.size());
        for (Object v : items) {
            if (!PickleValues.isHashable(v)) {
                throw in.fail("unhashable set item " + PickleValues.describe(v));
            }
            set.depth = Math.max(set.depth, 1 + PickleValues.depthOf(v));
            set.items.add(v == null ? PickleValues.NONE : v);
        }
        checkDepth(set.depth);
        return set;
    }

    private void checkSize(long n) {
        if (n > MAX_CONTAINER) {
            throw in.fail("container of more than " + MAX_CONTAINER + " items");
        }
    }

    private void checkDepth(int depth) {
        if (depth > MAX_DEPTH) {
            throw in.fail("values nested deeper than " + MAX_DEPTH + " levels");
        }
    }

    private void memoPut(long index) {
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) {
            throw in.fail("memo of more than " + MAX_MEMO + " entries");
        }
        memo.put(index, peek());
    }

    private void memoGet(long index) {
        if (!memo.containsKey(index)) {
            throw in.fail("memo entry " + index + " was never stored");
        }
        push(memo.get(index));
    }

    private static Object unwrap(Object v) {
        return v == PickleValues.NONE ? null : v;
    }
}
