package dev.memlong.actors.scheduler;

import dev.memlong.runtime.memlong.EmbeddingPlan;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.retriever.Retriever;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A device worker's embedding off its own thread ({@code async-embedding}). Before a turn's next piece runs, the
 * texts that piece will embed (a retrieval query at a chunk boundary, chunks leaving the window; see
 * {@code MemLongSequence.textsToEmbed}) are embedded on the embedding executor, and the turn sits out the worker's
 * steps until they arrive (as a {@link DeviceWorker.Embedded} message) while the rest of the batch keeps stepping.
 * The vectors wait in the replica's {@link EmbeddingPrefetch}, where the sequence's retriever calls inside the step
 * find them, so the device thread never waits for the embedding model. With the query's vector at hand, the same
 * task reads the retrieval's chunks ahead from storage ({@link #readAhead}), so the device thread does not wait for a
 * disk either.
 *
 * <p>The retriever is a model of its own that the trainer never changes: vectors asked for before a weight swap are
 * as valid after it, so a turn waiting for its embeddings across a swap simply runs its planned piece on the version
 * served when it runs (the worker records that version for the turn and its window).
 *
 * <p>Without an executor (async-embedding off) every turn is always ready and the device thread embeds inside the
 * step. Used on the worker's thread only.
 */
final class EmbeddingGate {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddingGate.class);

    private final EmbeddingPrefetch prefetch;
    private final Executor executor;
    private final SchedulerGauges gauges;
    private final Consumer<DeviceWorker.Embedded> deliver;

    /**
     * @param executor where to embed, or null to embed on the device thread
     * @param deliver  sends an {@link DeviceWorker.Embedded} answer to the worker (from any thread)
     */
    EmbeddingGate(EmbeddingPrefetch prefetch, Executor executor, SchedulerGauges gauges,
                  Consumer<DeviceWorker.Embedded> deliver) {
        this.prefetch = prefetch;
        this.executor = executor;
        this.gauges = gauges;
        this.deliver = deliver;
    }

    /**
     * Whether the turn can run {@code piece} now without the device thread embedding anything. If the piece needs
     * texts embedded, they are sent to the executor and the turn waits ({@link RunningTurn#awaitingEmbeddings}),
     * keeping the piece's length for when they arrive.
     */
    boolean ready(RunningTurn turn, int[] piece) {
        if (executor == null) {
            return true;
        }
        if (turn.awaitingEmbeddings()) {
            return false;
        }
        MemLongSequence sequence = turn.resident().sequence;
        EmbeddingPlan plan = sequence.embeddingPlan(piece);
        List<String> texts = plan.texts();
        List<String> missing = prefetch.missing(texts);
        if (missing.isEmpty()) {
            turn.pieceReady();
            return true;
        }
        turn.awaitEmbeddings(piece.length, texts);
        long id = turn.request().id();
        Retriever shared = prefetch.shared();
        float[] queryReady = plan.query() == null ? null : prefetch.vector(plan.query());
        try {
            CompletableFuture.supplyAsync(() -> {
                long t0 = System.nanoTime();
                float[][] vectors = shared.embed(missing);
                int q = plan.query() == null ? -1 : missing.indexOf(plan.query());
                readAhead(sequence, q >= 0 ? vectors[q] : queryReady);
                return new DeviceWorker.Embedded(id, missing, vectors, System.nanoTime() - t0, null);
            }, executor).exceptionally(e -> new DeviceWorker.Embedded(id, missing, null, 0, e)).thenAccept(deliver);
        } catch (RejectedExecutionException stopping) {
            deliver.accept(new DeviceWorker.Embedded(id, missing, null, 0, stopping));
        }
        return false;
    }

    /**
     * On the embedding executor, with the turn sitting out: reads the stored chunks its retrieval will fetch into the
     * store's cache, so that the retrieval on the device thread finds them there instead of reading RocksDB while
     * the whole batch waits (a cold top-8 fetch took 3 ms at the median and 20 ms at p99 in {@code bench storage}).
     * Best effort: a failure here (the conversation forgotten meanwhile, a storage error) is left for the retrieval
     * itself to meet and report.
     */
    private static void readAhead(MemLongSequence sequence, float[] query) {
        if (query == null) {
            return;
        }
        try {
            sequence.readAheadMemory(query);
        } catch (RuntimeException e) {
            LOG.debug("reading memory ahead failed; the retrieval will read it itself", e);
        }
    }

    /**
     * The embeddings {@code turn} waited for arrived: it steps again. Returns the error to fail the turn with when
     * the retriever failed, else null (the vectors are ready for its next piece).
     */
    Throwable arrived(RunningTurn turn, DeviceWorker.Embedded embedded) {
        turn.embeddingsArrived(embedded.nanos());
        gauges.embedded(embedded.nanos());
        if (embedded.error() != null) {
            return embedded.error();
        }
        prefetch.put(embedded.texts(), embedded.vectors());
        return null;
    }

    /**
     * After a step: drops the vectors no turn of {@code running} still waits to run with (the step's own turns read
     * theirs during it). Vectors stay while a turn needs them, whichever turn asked for them: a turn ready in this
     * step may have read the vector another turn waits for.
     */
    void stepDone(List<RunningTurn> running) {
        if (prefetch.size() == 0) {
            return;
        }
        Set<String> needed = new HashSet<>();
        for (RunningTurn turn : running) {
            needed.addAll(turn.pendingTexts());
        }
        prefetch.retainOnly(needed);
    }

    /** The device has no turn left: drops vectors nobody took (their turns ended). */
    void idle() {
        prefetch.clear();
    }
}
