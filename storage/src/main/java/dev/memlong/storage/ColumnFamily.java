package dev.memlong.storage;

/** The column families of the node's RocksDB, one per kind of data. */
enum ColumnFamily {
    /** Conversation metadata: model id, K/V layout, capacity, counters, flags. Key (tenant, conversation). */
    CONVERSATIONS("conversations", false),
    /** Every message. Key (tenant, conversation, turn seq). */
    TURNS("turns", false),
    /** Chunk metadata: token ids, text, retrieval counter. Key (tenant, conversation, chunk seq). */
    CHUNKS("chunks", false),
    /** Memory-layer K/V bytes, stored in blob files. Key (tenant, conversation, chunk seq). */
    CHUNK_KV("chunk_kv", true),
    /** Retriever embeddings. Key (tenant, conversation, chunk seq). */
    CHUNK_EMBEDDINGS("chunk_embeddings", false),
    /** The local window of a passivated conversation (cache rows). Key (tenant, conversation). */
    WINDOWS("windows", true),
    /** Fine-tuned model versions. Key (model id, version). */
    MODEL_VERSIONS("model_versions", false),
    /** The version each model serves. Key (model id). */
    MODEL_SERVING("model_serving", false);

    /** The column families whose keys start with a conversation prefix. */
    static final ColumnFamily[] CONVERSATION_DATA = {TURNS, CHUNKS, CHUNK_KV, CHUNK_EMBEDDINGS, WINDOWS,
        CONVERSATIONS};

    private final String cfName;
    private final boolean largeValues;

    ColumnFamily(String cfName, boolean largeValues) {
        this.cfName = cfName;
        this.largeValues = largeValues;
    }

    /** Whether keys start with a conversation prefix (the model families' keys do not). */
    boolean conversationKeyed() {
        return this != MODEL_VERSIONS && this != MODEL_SERVING;
    }

    String cfName() {
        return cfName;
    }

    /** Values of hundreds of KB: kept out of the LSM tree in blob files, not compressed. */
    boolean largeValues() {
        return largeValues;
    }
}
