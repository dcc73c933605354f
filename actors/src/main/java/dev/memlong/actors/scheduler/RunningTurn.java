package dev.memlong.actors.scheduler;

import dev.memlong.actors.Reply;
import dev.memlong.runtime.generate.Sampler;
import dev.memlong.runtime.generate.TextAccumulator;
import dev.memlong.runtime.memlong.Retrieval;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A turn in a device's running batch: its prompt (fed piece by piece), then one decode token per step until a
 * stop condition; sampling and text deltas as {@link dev.memlong.runtime.generate.Generator} does them alone.
 */
final class RunningTurn {

    /** Room for the first tokens of a reply; doubled when it fills. */
    private static final int INITIAL_CAPACITY = 256;

    private final TurnRequest request;
    private final SlotTable.Resident resident;
    private final int device;
    private final int[] prompt;
    private final Sampler sampler;
    private final TextAccumulator text;
    /** The tokens generated so far (the first {@code count}); grows as the reply does. */
    private int[] generated;
    private final Map<Long, Retrieval.RetrievedChunk> retrieved = new TreeMap<>();
    private final List<Long> modelVersions = new ArrayList<>();
    private final long admittedNanos = System.nanoTime();
    private long retrievalNanos;
    private boolean awaitingEmbeddings;
    private int plannedPiece;
    private List<String> pendingTexts = List.of();
    private long firstTokenNanos;
    private int fed;
    private int count;
    private int nextToken = -1;
    private Reply.StopReason stopReason;

    RunningTurn(TurnRequest request, SlotTable.Resident resident, int[] prompt, int device, int vocabSize,
                TextTokenizer tokenizer) {
        this.request = request;
        this.resident = resident;
        this.device = device;
        this.prompt = prompt;
        this.sampler = new Sampler(request.params(), vocabSize, prompt);
        this.text = new TextAccumulator(tokenizer, request.params().stopStrings());
        // not maxNewTokens up front: most replies stop far earlier, and this runs on the device thread
        this.generated = new int[Math.min(request.params().maxNewTokens(), INITIAL_CAPACITY)];
    }

    TurnRequest request() {
        return request;
    }

    SlotTable.Resident resident() {
        return resident;
    }

    /** Whether the prompt is in the cache and a sampled token waits to be fed. */
    boolean decoding() {
        return nextToken >= 0;
    }

    int remainingPrompt() {
        return prompt.length - fed;
    }

    /** The next {@code n} prompt tokens. */
    int[] promptPiece(int n) {
        return Arrays.copyOfRange(prompt, fed, fed + n);
    }

    int[] decodePiece() {
        return new int[] {nextToken};
    }

    /** Records the model version of a step this turn was in (each version once, in the order they ran). */
    void ranOn(long version) {
        if (modelVersions.isEmpty() || modelVersions.get(modelVersions.size() - 1) != version) {
            modelVersions.add(version);
        }
    }

    /** Whether the turn sits out steps until the texts its next piece embeds are embedded elsewhere. */
    boolean awaitingEmbeddings() {
        return awaitingEmbeddings;
    }

    /**
     * Its next piece ({@code length} tokens) needs {@code texts} embedded first; that piece is kept for when they
     * arrive, and the texts' vectors until it runs.
     */
    void awaitEmbeddings(int length, List<String> texts) {
        awaitingEmbeddings = true;
        plannedPiece = length;
        pendingTexts = List.copyOf(texts);
    }

    /** The texts whose vectors its planned piece will read (empty when it waits for none). */
    List<String> pendingTexts() {
        return pendingTexts;
    }

    /** The embeddings arrived after {@code nanos} of embedding (counted as retrieval time). */
    void embeddingsArrived(long nanos) {
        awaitingEmbeddings = false;
        retrievalNanos += nanos;
    }

    /** The length of the prompt piece whose embeddings were prepared, or 0 (choose one). */
    int plannedPiece() {
        return plannedPiece;
    }

    void pieceReady() {
        plannedPiece = 0;
        pendingTexts = List.of();
    }

    void retrieved(Retrieval retrieval) {
        retrievalNanos += retrieval.timings().totalNanos();
        retrieval.chunks().forEach(c -> retrieved.putIfAbsent(c.seq(), c));
    }

    /**
     * Takes the logits after a forward that appended {@code piece}; samples when the prompt is done.
     *
     * @return whether the turn finished
     */
    boolean afterForward(int[] piece, float[] logits) {
        if (!decoding()) {
            fed += piece.length;
            if (fed < prompt.length) {
                return false;
            }
            if (request.params().maxNewTokens() == 0) {
                stopReason = Reply.StopReason.LENGTH;
                return true;
            }
        }
        int next = sampler.next(logits);
        sampler.accept(next);
        if (count == generated.length) {
            generated = Arrays.copyOf(generated, Math.min(request.params().maxNewTokens(), 2 * count));
        }
        generated[count++] = next;
        if (count == 1) {
            firstTokenNanos = System.nanoTime();
        }
        if (request.params().stopTokenIds().contains(next)) {
            stopReason = Reply.StopReason.STOP_TOKEN;
            return true;
        }
        String delta = text.add(next);
        if (!delta.isEmpty() || !text.stopped()) {
            request.replyTo().tell(new GenerationEvent.Token(request.id(), next, delta));
        }
        if (text.stopped()) {
            stopReason = Reply.StopReason.STOP_STRING;
            resident.unfedToken = next;
            return true;
        }
        if (count == request.params().maxNewTokens()) {
            stopReason = Reply.StopReason.LENGTH;
            resident.unfedToken = next;
            return true;
        }
        nextToken = next;
        return false;
    }

    /** The finished event (after {@link #afterForward} returned true); flushes held-back text first. */
    GenerationEvent.Finished finish() {
        if (stopReason != Reply.StopReason.STOP_STRING) {
            String rest = text.flush();
            if (!rest.isEmpty()) {
                request.replyTo().tell(new GenerationEvent.Token(request.id(), -1, rest));
            }
        }
        long end = System.nanoTime();
        long first = count == 0 ? end : firstTokenNanos;
        return new GenerationEvent.Finished(request.id(), Arrays.copyOf(generated, count), text.finalText(),
                stopReason, prompt.length, first - admittedNanos, end - first, retrievalNanos,
                new ArrayList<>(retrieved.values()), resident.bank.tokenCount(), resident.sequence.windowTokens(), device,
                List.copyOf(modelVersions));
    }

}
