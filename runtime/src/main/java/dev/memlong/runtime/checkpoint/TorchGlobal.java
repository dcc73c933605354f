package dev.memlong.runtime.checkpoint;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The only Python globals a state-dict pickle may name; everything else is refused by {@link RestrictedUnpickler}.
 * This is the part of {@code torch.load(weights_only=True)}'s allow-list that a saved {@code state_dict} needs.
 */
enum TorchGlobal {
    ORDERED_DICT("collections", "OrderedDict"),
    REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2"),
    REBUILD_TENSOR("torch._utils", "_rebuild_tensor"),
    REBUILD_PARAMETER("torch._utils", "_rebuild_parameter"),
    REBUILD_PARAMETER_WITH_STATE("torch._utils", "_rebuild_parameter_with_state"),
    FLOAT_STORAGE("torch", "FloatStorage", "F32", 4),
    HALF_STORAGE("torch", "HalfStorage", "F16", 2),
    BFLOAT16_STORAGE("torch", "BFloat16Storage", "BF16", 2),
    // Storages of non-float buffers (position ids, masks): allowed so that such a checkpoint opens; reading them
    // as float32 is refused with a precise error, as for safetensors.
    DOUBLE_STORAGE("torch", "DoubleStorage", "F64", 8),
    LONG_STORAGE("torch", "LongStorage", "I64", 8),
    INT_STORAGE("torch", "IntStorage", "I32", 4),
    SHORT_STORAGE("torch", "ShortStorage", "I16", 2),
    CHAR_STORAGE("torch", "CharStorage", "I8", 1),
    BYTE_STORAGE("torch", "ByteStorage", "U8", 1),
    BOOL_STORAGE("torch", "BoolStorage", "BOOL", 1),
    /** Untyped storages count bytes; a tensor on one has no element type we could trust. */
    UNTYPED_STORAGE("torch", "UntypedStorage", "U8", 1),
    UNTYPED_STORAGE_QUALIFIED("torch.storage", "UntypedStorage", "U8", 1);

    private static final Map<String, TorchGlobal> BY_NAME = new HashMap<>();

    static {
        for (TorchGlobal g : values()) {
            BY_NAME.put(g.module + "." + g.name, g);
        }
    }

    private final String module;
    private final String name;
    private final String storageDtype;
    private final int elementBytes;

    TorchGlobal(String module, String name) {
        this(module, name, null, 0);
    }

    TorchGlobal(String module, String name, String storageDtype, int elementBytes) {
        this.module = module;
        this.name = name;
        this.storageDtype = storageDtype;
        this.elementBytes = elementBytes;
    }

    /** The allowed global {@code module.name}, or empty when the pickle must be refused. */
    static Optional<TorchGlobal> lookup(String module, String name) {
        return Optional.ofNullable(BY_NAME.get(module + "." + name));
    }

    boolean isStorage() {
        return storageDtype != null;
    }

    boolean isUntypedStorage() {
        return this == UNTYPED_STORAGE || this == UNTYPED_STORAGE_QUALIFIED;
    }

    /** The element type in safetensors spelling ({@code F32}, {@code I64}, ...), for storages only. */
    String storageDtype() {
        return storageDtype;
    }

    int elementBytes() {
        return elementBytes;
    }

    @Override
    public String toString() {
        return module + "." + name;
    }
}
