/**
 * MemLong's long-term memory in plain Java: the {@link dev.memlong.memory.MemoryBank} contract (chunks of past text
 * with their retriever embeddings and the memory layer's K/V), the in-memory bank, the eviction planner every bank
 * shares, the K/V byte encodings and the typed {@link dev.memlong.memory.MemorySettings}. No model or storage
 * engine code lives here, so the RocksDB bank in {@code storage} and the runtime both depend on it.
 */
package dev.memlong.memory;
