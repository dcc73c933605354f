package dev.memlong.actors;

import dev.memlong.storage.ChunkReads;

/**
 * Counters of a {@link MemLongRuntime} at one instant, read without messaging any actor (cheap enough for every
 * metrics scrape). Rates are left to the reader: sample {@link #tokensGenerated} twice.
 *
 * @param turnsInFlight   turns sent and not yet done or failed (queued, prefilling, decoding or committing)
 * @param tokensGenerated reply tokens generated since start, all conversations and devices
 * @param turnsDone       turns committed since start
 * @param turnsFailed     turns that ended with an error (cancelled, overloaded, ...) since start
 * @param batchSize       sequences in the devices' running batches now (as the device workers last reported)
 * @param queueDepth      turns waiting at the devices for a batch slot now
 * @param retrievals      memory retrievals since start, all devices
 * @param retrievalNanos  total time of those retrievals (query embedding, top-k search, K/V gather and upload)
 * @param memoryChunkReads how the memory banks got the chunks retrievals fetched: from the K/V cache, from RocksDB
 *                        on the device thread, or read ahead off it ({@code async-embedding})
 * @param trainerRounds   training rounds that trained since start (published, rejected or failed; not the skipped
 *                        or cancelled ones): {@link TrainerStats#roundsRun()}
 * @param trainerRoundsPublished those of them whose version was published and swapped in
 * @param devices         device workers
 * @param maxBatch        sequences one device runs at once
 * @param maxQueue        turns one device keeps waiting
 */
public record RuntimeStats(int turnsInFlight, long tokensGenerated, long turnsDone, long turnsFailed, int batchSize,
                           int queueDepth, long retrievals, long retrievalNanos, ChunkReads memoryChunkReads,
                           long trainerRounds,
                           long trainerRoundsPublished, int devices, int maxBatch, int maxQueue) {}
