/**
 * The node's system of record on embedded RocksDB (no server): conversations, their dialogue, their long-term
 * memory (chunks with memory-layer K/V and retriever embeddings) and the trainer's model versions.
 *
 * <p>Entry point: {@link dev.memlong.storage.ConversationStore}, opened from {@link
 * dev.memlong.storage.StorageSettings} ({@code memlong.storage} in {@code reference.conf}). A conversation's
 * memory bank, {@link dev.memlong.storage.RocksMemoryBank}, implements the memory module's {@code MemoryBank}.
 * Failures are {@link dev.memlong.storage.StorageException}s typed by kind and naming conversation, column
 * family and key.
 *
 * <p>Layout: one column family per kind of data (conversations, turns, chunks, chunk_kv, chunk_embeddings,
 * windows, model_versions, model_serving); Protobuf values with a schema version ({@code src/main/proto}); big-endian composite keys
 * (length-prefixed tenant, length-prefixed conversation id, u64 sequence) so a conversation is one key range.
 * Package-private classes hold the RocksDB details; nothing outside this package sees RocksDB or wire types.
 */
package dev.memlong.storage;
