package dev.memlong.runtime.checkpoint;

import dev.memlong.runtime.checkpoint.PickleValues.PyDict;
import dev.memlong.runtime.checkpoint.PickleValues.PyTuple;

/**
 * What {@code REDUCE} and {@code BUILD} may do in a state-dict pickle: create an empty OrderedDict, rebuild a
 * tensor view from a storage, unwrap an {@code nn.Parameter}, and set the {@code _metadata} attribute that
 * {@code Module.state_dict()} attaches to its OrderedDict (which is discarded). Any other call is refused.
 */
final class TorchRebuild {

    private TorchRebuild() {}

    static Object reduce(Object callable, Object argsValue, PickleInput in) {
        if (!(callable instanceof TorchGlobal fn)) {
            throw in.fail("REDUCE of " + PickleValues.describe(callable) + ", which is not callable");
        }
        if (!(argsValue instanceof PyTuple args)) {
            throw in.fail("REDUCE of " + fn + " with " + PickleValues.describe(argsValue) + " instead of an argument tuple");
        }
        return switch (fn) {
            case ORDERED_DICT -> {
                if (args.size() != 0) {
                    throw in.fail("OrderedDict called with arguments; torch writes OrderedDict() and then SETITEMS");
                }
                yield new PyDict();
            }
            case REBUILD_TENSOR_V2 -> {
                if (args.size() < 6 || args.size() > 7) {
                    throw in.fail(fn + " with " + args.size() + " arguments instead of 6 or 7");
                }
                if (!(args.get(4) instanceof Boolean)) {
                    throw in.fail(fn + ": requires_grad is " + PickleValues.describe(args.get(4)));
                }
                requireHooks(args.get(5), fn, in);
                yield tensor(args, fn, in);
            }
            case REBUILD_TENSOR -> {
                if (args.size() != 4) {
                    throw in.fail(fn + " with " + args.size() + " arguments instead of 4");
                }
                yield tensor(args, fn, in);
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                int expected = fn == TorchGlobal.REBUILD_PARAMETER ? 3 : 4;
                if (args.size() != expected || !(args.get(0) instanceof TorchTensorView data)
                        || !(args.get(1) instanceof Boolean)) {
                    throw in.fail(fn + " needs (tensor, requires_grad, hooks" + (expected == 4 ? ", state)" : ")"));
                }
                requireHooks(args.get(2), fn, in);
                yield data;
            }
            default -> throw in.fail("REDUCE of " + fn + " refused: only OrderedDict and the tensor rebuild "
                    + "functions may be called");
        };
    }

    /**
     * {@code BUILD}: only the state {@code Module.state_dict()} leaves on its OrderedDict ({@code {'_metadata': ...}},
     * possibly as a (dict, slots) pair). It only carries module versions, so it is checked and dropped.
     */
    static void build(Object target, Object state, PickleInput in) {
        if (!(target instanceof PyDict)) {
            throw in.fail("BUILD on " + PickleValues.describe(target) + " refused");
        }
        Object dictState = state;
        if (state instanceof PyTuple t && t.size() == 2 && t.get(1) == null) {
            dictState = t.get(0);
        }
        if (!(dictState instanceof PyDict d)) {
            throw in.fail("BUILD of an OrderedDict with " + PickleValues.describe(state) + " refused");
        }
        for (Object key : d.items.keySet()) {
            if (!"_metadata".equals(key)) {
                throw in.fail("BUILD sets attribute " + PickleValues.describe(key) + " on an OrderedDict; only _metadata is allowed");
            }
        }
    }

    private static void requireHooks(Object hooks, TorchGlobal fn, PickleInput in) {
        if (!(hooks instanceof PyDict d) || !d.items.isEmpty()) {
            throw in.fail(fn + ": backward hooks must be an empty OrderedDict, got " + PickleValues.describe(hooks));
        }
    }

    private static TorchTensorView tensor(PyTuple args, TorchGlobal fn, PickleInput in) {
        if (!(args.get(0) instanceof TorchStorage storage)) {
            throw in.fail(fn + " of " + PickleValues.describe(args.get(0)) + " instead of a storage");
        }
        long offset = asLong(args.get(1), fn + " storage offset", in);
        long[] shape = longs(args.get(2), fn + " size", in);
        long[] stride = longs(args.get(3), fn + " stride", in);
        TorchTensorView view = new TorchTensorView(storage, offset, shape, stride);
        String invalid = view.invalidReason();
        if (invalid != null) {
            throw in.fail(fn + ": " + invalid);
        }
        return view;
    }

    private static long[] longs(Object v, String what, PickleInput in) {
        if (!(v instanceof PyTuple t) || t.size() > 64) {
            throw in.fail(what + " is " + PickleValues.describe(v) + ", not a tuple of at most 64 ints");
        }
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = asLong(t.get(i), what, in);
        }
        return out;
    }

    private static long asLong(Object v, String what, PickleInput in) {
        if (v instanceof Long l) {
            return l;
        }
        throw in.fail(what + " is " + PickleValues.describe(v) + ", not an int");
    }
}
