package dev.memlong.storage;

/**
 * A storage failure, typed by {@link Kind} and naming where it happened: the conversation (when the key belongs
 * to one), the column family and the key. A bad value fails only the operation that read it; the rest of the
 * store stays usable.
 */
public final class StorageException extends RuntimeException {

    /** What went wrong. */
    public enum Kind {
        /**
         * A stored value is not a valid Protobuf message of the expected type, or holds what no valid record does:
         * an unknown enum value, a chunk of no tokens, a negative counter, a non-finite embedding value...
         */
        UNPARSABLE_VALUE,
        /** K/V bytes shorter or longer than the conversation's layout requires for the chunk's tokens. */
        TRUNCATED_KV,
        /** An embedding whose size does not match the conversation's embedding dimension. */
        TRUNCATED_EMBEDDING,
        /** A value written with a schema version this build does not know (or none). */
        UNKNOWN_SCHEMA_VERSION,
        /** The conversation was written for another memory-layer K/V layout. */
        LAYOUT_MISMATCH,
        /** The conversation was written for another model. */
        MODEL_MISMATCH,
        /** A chunk whose metadata, K/V and embedding are not all present. */
        MISSING_RECORD,
        /** The conversation (or model version) does not exist. */
        NOT_FOUND,
        /** The conversation already exists (import). */
        ALREADY_EXISTS,
        /** An export stream that is malformed or incomplete, or holds a record no valid conversation has. */
        BAD_EXPORT,
        /** The store cannot start: directory not creatable, read-only, disk full, locked by another process. */
        STARTUP,
        /** The store was closed. */
        CLOSED,
        /** RocksDB or the file system failed. */
        IO
    }

    private final Kind kind;
    private final String conversation;
    private final String columnFamily;
    private final String key;

    /**
     * @param kind         what went wrong
     * @param conversation {@code tenant/id} of the conversation concerned, or null
     * @param columnFamily the column family concerned, or null
     * @param key          a printable rendering of the key concerned, or null
     * @param detail       what happened, in words
     * @param cause        the underlying error, or null
     */
    public StorageException(Kind kind, String conversation, String columnFamily, String key, String detail,
                            Throwable cause) {
        super(message(kind, conversation, columnFamily, key, detail), cause);
        this.kind = kind;
        this.conversation = conversation;
        this.columnFamily = columnFamily;
        this.key = key;
    }

    /** A failure not tied to one record. */
    public StorageException(Kind kind, String detail, Throwable cause) {
        this(kind, null, null, null, detail, cause);
    }

    private static String message(Kind kind, String conversation, String cf, String key, String detail) {
        StringBuilder b = new StringBuilder(kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '));
        if (conversation != null) {
            b.append(" [conversation ").append(conversation).append(']');
        }
        if (cf != null) {
            b.append(" [column family ").append(cf).append(']');
        }
        if (key != null) {
            b.append(" [key ").append(key).append(']');
        }
        return b.append(": ").append(detail).toString();
    }

    public Kind kind() {
        return kind;
    }

    /** {@code tenant/id}, or null when the failure is not about one conversation. */
    public String conversation() {
        return conversation;
    }

    /** The column family name, or null. */
    public String columnFamily() {
        return columnFamily;
    }

    /** A printable rendering of the key, or null. */
    public String key() {
        return key;
    }
}
