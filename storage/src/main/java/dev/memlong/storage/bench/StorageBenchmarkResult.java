package dev.memlong.storage.bench;

import java.util.Locale;

/**
 * Figures of one {@link StorageBenchmark} run. {@link #toJson()} names every field in snake_case, as
 * {@code memlong bench storage --json} prints them.
 *
 * @param commitTurnsSFsync        turn commits per second (user + reply + one 128-token chunk), fsync on
 * @param commitTurnsSNofsync      the same with fsync off (WAL still on)
 * @param chunkAppendsS            {@code bank.append} per second, fsync off
 * @param memoryTokens             tokens of memory in the activated conversation
 * @param activate1mTokensMs       time to activate that conversation after reopening the store (embeddings loaded)
 * @param fetchTop8MsP50Warm       top-k search + fetch of 8 chunks' K/V, p50, after the query's chunks were read
 *                                 ahead ({@code readAhead}): what a retrieval costs the device thread
 * @param fetchTop8MsP99Warm       the same, p99
 * @param fetchTop8MsP50Cold       top-k search + fetch with an empty K/V cache and a freshly opened store, p50
 * @param fetchTop8MsP99Cold       the same, p99
 * @param diskBytesPerMemoryToken  bytes on disk of the store holding only that conversation, per memory token
 * @param crashIterations          SIGKILL iterations of the crash loop
 * @param acknowledgedTurns        turns acknowledged by the crash children
 * @param acknowledgedTurnsLost    acknowledged turns missing after a crash (must be 0)
 * @param halfWrittenChunks        chunks found half-written after a crash (must be 0)
 */
public record StorageBenchmarkResult(double commitTurnsSFsync, double commitTurnsSNofsync, double chunkAppendsS,
                                     long memoryTokens, double activate1mTokensMs, double fetchTop8MsP50Warm,
                                     double fetchTop8MsP99Warm, double fetchTop8MsP50Cold, double fetchTop8MsP99Cold,
                                     double diskBytesPerMemoryToken, int crashIterations, long acknowledgedTurns,
                                     long acknowledgedTurnsLost, long halfWrittenChunks) {

    /** One JSON object. */
    public String toJson() {
        return String.format(Locale.ROOT, "{\"commit_turns_s_fsync\": %.1f, \"commit_turns_s_nofsync\": %.1f, "
                        + "\"chunk_appends_s\": %.1f, \"memory_tokens\": %d, \"activate_1m_tokens_ms\": %.1f, "
                        + "\"fetch_top8_ms_p50_warm\": %.3f, \"fetch_top8_ms_p99_warm\": %.3f, "
                        + "\"fetch_top8_ms_p50_cold\": %.3f, \"fetch_top8_ms_p99_cold\": %.3f, "
                        + "\"disk_bytes_per_memory_token\": %.1f, \"crash_iterations\": %d, "
                        + "\"acknowledged_turns\": %d, \"acknowledged_turns_lost\": %d, \"half_written_chunks\": %d}",
                commitTurnsSFsync, commitTurnsSNofsync, chunkAppendsS, memoryTokens, activate1mTokensMs,
                fetchTop8MsP50Warm, fetchTop8MsP99Warm, fetchTop8MsP50Cold, fetchTop8MsP99Cold,
                diskBytesPerMemoryToken, crashIterations, acknowledgedTurns, acknowledgedTurnsLost,
                halfWrittenChunks);
    }
}
