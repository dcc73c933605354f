package dev.memlong.actors.scheduler;

import dev.memlong.actors.MemLongException;
import dev.memlong.actors.Reply;
import dev.memlong.runtime.memlong.Retrieval;
import java.util.List;

/** What a device worker reports about a turn, in order: admitted, tokens, then finished or failed. */
public sealed interface GenerationEvent {

    /** The turn's id. */
    long requestId();

    /** The turn got a batch slot on device {@code device}. */
    record Admitted(long requestId, int device) implements GenerationEvent {}

    /** A generated token and the text it makes visible ({@code tokenId} -1: text flushed at the end). */
    record Token(long requestId, int tokenId, String text) implements GenerationEvent {}

    /**
     * The turn is done; the window and the bank's staged chunks hold it.
     *
     * @param ids          generated ids (a stop token that ended the reply included)
     * @param text         the reply text
     * @param promptTokens tokens fed for the turn
     * @param ttftNanos    admission to first token
     * @param decodeNanos  first token to last
     * @param retrievalNanos time the turn's memory retrievals took (all phases, every retrieval)
     * @param retrieved    chunks retrieved during the turn, chronological, each once
     * @param memoryTokens tokens in the bank (staged ones included)
     * @param windowTokens tokens in the local window
     * @param device       the worker's index
     * @param modelVersions the model versions the turn's steps ran on, in order, each once
     */
    record Finished(long requestId, int[] ids, String text, Reply.StopReason stopReason, int promptTokens,
                    long ttftNanos, long decodeNanos, long retrievalNanos, List<Retrieval.RetrievedChunk> retrieved,
                    long memoryTokens, int windowTokens, int device, List<Long> modelVersions)
            implements GenerationEvent {}

    /** The turn failed (overloaded, cancelled, a device error). */
    record Failed(long requestId, MemLongException error) implements GenerationEvent {}
}
