package dev.memlong.runtime.memlong;

import dev.memlong.memory.KvCodec;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.MemorySettings;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.runtime.model.EvictedWindow;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.KvSlotRows;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.MemoryKv;
import dev.memlong.runtime.model.SequenceStep;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One conversation's MemLong state on a cache slot: the local window (its token ids mirror the cache rows), the
 * memory bank, and the memory currently retrieved for it.
 *
 * <p>Before tokens are appended, {@link #prepare} does MemLong's bookkeeping: when the window would pass
 * {@code W}, its oldest half moves to the bank as whole chunks (memory-layer K/V taken from the cache, the chunk
 * text embedded); at the start of each new input and whenever the window crosses a chunk boundary, memory is
 * retrieved for the newest part of the window. Then the caller runs the forward (alone or batched with other
 * sequences) and reports the tokens with {@link #appended}. Retrieval always runs before the current text is
 * written to memory, so a chunk never retrieves itself.
 */
public final class MemLongSequence implements AutoCloseable {

    private final LlamaModel model;
    private final KvCachePool cache;
    private final int slot;
    private final MemoryBank bank;
    private final Retriever retriever;
    private final TextTokenizer tokenizer;
    private final MemorySettings settings;
    private final int chunk;
    private final int[] window;
    private final MemoryGather gather;
    private int turnStart;
    private MemoryKv memory;
    private Consumer<Retrieval> retrievalListener = r -> { };
    private boolean memoryEnabled = true;

    /**
     * @param cache a MemLong cache whose capacity is the settings' local window
     * @param bank  this conversation's memory bank, with the model's K/V layout
     */
    public MemLongSequence(LlamaModel model, KvCachePool cache, int slot, MemoryBank bank, Retriever retriever,
                           TextTokenizer tokenizer, MemorySettings settings) {
        if (cache.memLong() == null || cache.capacity() != settings.localWindow()) {
            throw new IllegalArgumentException("a MemLong sequence needs a MemLong cache of capacity local-window "
                    + settings.localWindow());
        }
        if (bank.layout().kvHeads() != model.config().numKvHeads() || bank.layout().headDim() != model.config().headDim()
                || bank.layout().embeddingDim() != retriever.dimension()
                || !bank.layout().embeddedBy(retriever.id())) {
            throw new IllegalArgumentException("memory bank layout " + bank.layout() + " does not fit the model ("
                    + model.config().numKvHeads() + " KV heads of " + model.config().headDim() + ") and retriever ("
                    + retriever.id() + ", " + retriever.dimension() + "-d)");
        }
        this.model = model;
        this.cache = cache;
        this.slot = slot;
        this.bank = bank;
        this.retriever = retriever;
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.chunk = settings.chunkSize();
        this.window = new int[settings.localWindow()];
        this.gather = new MemoryGather(model.config().numKvHeads() * model.config().headDim());
        cache.reset(slot);
    }

    /**
     * Turns memory off or on: off, window overflow is dropped instead of stored and nothing is retrieved, which
     * leaves a plain sliding-window model (the baseline MemLong is measured against).
     */
    public void setMemoryEnabled(boolean enabled) {
        this.memoryEnabled = enabled;
        if (!enabled) {
            closeMemory();
        }
    }

    /** Called with every retrieval (for showing which memory a reply used). */
    public void onRetrieval(Consumer<Retrieval> listener) {
        this.retrievalListener = listener;
    }

    public int slot() {
        return slot;
    }

    public MemoryBank bank() {
        return bank;
    }

    /** Tokens in the local window. */
    public int windowTokens() {
        return cache.length(slot);
    }

    /** The window's token ids, oldest first (what the cache rows hold). */
    public int[] windowIds() {
        return Arrays.copyOf(window, cache.length(slot));
    }

    /** A copy of the window's cache rows ({@link KvSlotRows}), to put back later with {@link #restoreWindow}. */
    public byte[] windowRows() {
        return KvSlotRows.export(cache, slot);
    }

    /**
     * Puts back a window saved with {@link #windowIds} and {@link #windowRows} (by this model), replacing whatever
     * this sequence holds: the next input continues exactly as it would have on the saved sequence.
     *
     * @throws IllegalArgumentException if the rows do not fit this cache or the ids do not match them
     */
    public void restoreWindow(int[] ids, byte[] rows) {
        closeMemory();
        if (ids.length > window.length) {
            throw new IllegalArgumentException(ids.length + " saved window tokens exceed the window of " + window.length);
        }
        KvSlotRows.restore(cache, slot, rows);
        if (cache.length(slot) != ids.length) {
            int length = cache.length(slot);
            cache.reset(slot);
            throw new IllegalArgumentException("saved window of " + ids.length + " ids has " + length + " cache rows");
        }
        System.arraycopy(ids, 0, window, 0, ids.length);
        turnStart = ids.length;
        forceRetrieval = true;
    }

    /** The memory the next forward attends to, or null. */
    public MemoryKv memory() {
        return memory;
    }

    /** Marks the start of a new input (a user turn, a document): the next {@link #prepare} retrieves. */
    public void beginInput() {
        turnStart = cache.length(slot);
        forceRetrieval = true;
    }

    private boolean forceRetrieval = true;

    /**
     * The longest piece of {@code remaining} tokens that can be appended next: up to the next chunk boundary,
     * so retrieval can run at every boundary.
     */
    public int nextPieceLength(int remaining) {
        int toBoundary = chunk - cache.length(slot) % chunk;
        return Math.min(remaining, toBoundary);
    }

    /**
     * Makes room for {@code tokens} (at most up to the next chunk boundary) and retrieves when an input starts or
     * a chunk boundary is crossed. Returns the step to run with {@link #memory()}.
     */
    public SequenceStep prepare(int[] tokens) {
        if (tokens.length == 0 || tokens.length > nextPieceLength(Integer.MAX_VALUE)) {
            throw new IllegalArgumentException("append at most up to the next chunk boundary ("
                    + nextPieceLength(Integer.MAX_VALUE) + " tokens), got " + tokens.length);
        }
        if (cache.length(slot) + tokens.length > settings.localWindow()) {
            moveOldestHalfToMemory();
        }
        if (memoryEnabled && (forceRetrieval || cache.length(slot) % chunk == 0)) {
            retrieve(tokens);
            forceRetrieval = false;
        }
        return new SequenceStep(slot, tokens);
    }

    /**
     * The texts {@link #prepare} will embed for {@code tokens}, in the order it embeds them: the chunk texts of a
     * window overflow, then the retrieval query; empty when it embeds nothing. Changes nothing, so a caller can
     * have them embedded elsewhere first (a retriever that already holds their vectors then answers at once).
     */
    public List<String> textsToEmbed(int[] tokens) {
        return embeddingPlan(tokens).texts();
    }

    /** {@link #textsToEmbed}, with the retrieval query told apart (for reading its memory ahead). */
    public EmbeddingPlan embeddingPlan(int[] tokens) {
        if (!memoryEnabled || tokens.length == 0 || tokens.length > nextPieceLength(Integer.MAX_VALUE)) {
            return new EmbeddingPlan(List.of(), null);
        }
        int length = cache.length(slot);
        int start = turnStart;
        int[] ids = window;
        List<String> texts = new ArrayList<>();
        boolean overflow = length + tokens.length > settings.localWindow();
        if (overflow) {
            int half = settings.localWindow() / 2;
            texts.addAll(chunkTexts(Arrays.copyOf(window, half)));
            ids = Arrays.copyOfRange(window, half, window.length);
            length -= half;
            start = Math.max(0, start - half);
        }
        boolean chunksAfter = bank.chunkCount() > 0 || (overflow && half() >= chunk);
        String query = null;
        if ((forceRetrieval || length % chunk == 0) && chunksAfter) {
            query = tokenizer.decode(queryTokens(ids, length, start, tokens), true);
        }
        return new EmbeddingPlan(texts, query);
    }

    /**
     * Reads ahead, from storage into the bank's cache, the stored chunks a retrieval by {@code queryVector} (the
     * embedded {@link EmbeddingPlan#query}) will fetch ({@link MemoryBank#readAhead}), so that the retrieval inside
     * the next {@link #prepare} does not wait for a disk. Meant for another thread while this sequence is not being
     * stepped; reads only final fields here. Changes no result.
     *
     * @return chunks read from storage
     */
    public int readAheadMemory(float[] queryVector) {
        return bank.readAhead(queryVector, settings.topK(), settings.nextChunks());
    }

    private int half() {
        return settings.localWindow() / 2;
    }

    /** Records tokens the forward appended to the cache. */
    public void appended(int[] tokens) {
        int end = cache.length(slot);
        int start = end - tokens.length;
        if (start < 0) {
            throw new IllegalStateException("the cache holds fewer tokens than were appended");
        }
        System.arraycopy(tokens, 0, window, start, tokens.length);
    }

    /** Receives the logits after each token fed (for perplexity). */
    @FunctionalInterface
    public interface PositionLogits {
        void accept(int index, float[] logits);
    }

    /**
     * Runs {@code tokens} through the model on this sequence alone, piece by piece (retrieving at each chunk
     * boundary, overflowing to memory as needed); returns the logits after the last token.
     *
     * @param newInput       the tokens start a new input (retrieval runs at once, the query starts here)
     * @param allPositions   compute the logits after every token, passed to {@code positionLogits}
     * @param positionLogits receives {@code (index in tokens, logits)}, or null
     */
    public float[] feed(int[] tokens, boolean newInput, boolean allPositions, PositionLogits positionLogits) {
        if (newInput) {
            beginInput();
        }
        float[] last = null;
        int done = 0;
        while (done < tokens.length) {
            int n = nextPieceLength(tokens.length - done);
            int[] piece = Arrays.copyOfRange(tokens, done, done + n);
            SequenceStep step = prepare(piece);
            float[][] logits = model.forward(cache, List.of(step), allPositions, memoryList())[0];
            appended(piece);
            if (positionLogits != null) {
                for (int i = 0; i < logits.length; i++) {
                    positionLogits.accept(done + (allPositions ? i : n - 1), logits[i]);
                }
            }
            last = logits[logits.length - 1];
            done += n;
        }
        return last;
    }

    private List<MemoryKv> memoryList() {
        return memory == null ? null : java.util.Collections.singletonList(memory);
    }

    private void moveOldestHalfToMemory() {
        int half = settings.localWindow() / 2;
        int[] ids = Arrays.copyOf(window, half);
        EvictedWindow evicted = model.shiftWindow(cache, slot, half);
        System.arraycopy(window, half, window, 0, window.length - half);
        turnStart = Math.max(0, turnStart - half);
        if (!memoryEnabled) {
            return;
        }
        int chunks = half / chunk;
        List<String> texts = chunkTexts(ids);
        float[][] embeddings = retriever.embed(texts);
        int perChunk = chunk * model.config().numKvHeads() * model.config().headDim();
        KvDType dtype = bank.layout().dtype();
        for (int c = 0; c < chunks; c++) {
            bank.append(new NewChunk(Arrays.copyOfRange(ids, c * chunk, (c + 1) * chunk), texts.get(c), embeddings[c],
                    encode(evicted.keys(), c * perChunk, perChunk, dtype),
                    encode(evicted.values(), c * perChunk, perChunk, dtype)));
        }
    }

    /** {@code count} floats of {@code src} from {@code from} encoded as {@code dtype} (no intermediate copy). */
    private static byte[] encode(float[] src, int from, int count, KvDType dtype) {
        byte[] out = new byte[Math.multiplyExact(count, dtype.bytes())];
        KvCodec.encode(src, from, count, dtype, out, 0);
        return out;
    }

    /** The texts of the whole chunks of {@code ids} (the oldest half of the window, leaving it). */
    private List<String> chunkTexts(int[] ids) {
        int chunks = ids.length / chunk;
        List<String> texts = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            texts.add(tokenizer.decode(Arrays.copyOfRange(ids, c * chunk, (c + 1) * chunk), true));
        }
        return texts;
    }

    /** The shortest query: a one-word input ("and hers?") is completed with the tokens before it. */
    static final int MIN_QUERY_TOKENS = 8;

    /**
     * The retrieval query for a window {@code ids} of {@code length} tokens whose input started at
     * {@code turnStart}, plus the pending tokens: the current input (its newest two chunks at most), and the
     * tokens just before it only where the input is shorter than {@link #MIN_QUERY_TOKENS}. Context before the
     * input is left out because it drowns a short question: with a chunk of small talk before "what is my
     * cousin's city?", bge-small ranked the chunk that states it in the top 8 of 118 for 7 of 20 facts; with the
     * question alone, for 17 of 20.
     */
    private int[] queryTokens(int[] ids, int length, int turnStart, int[] pending) {
        int end = length + pending.length;
        int from = Math.max(0, Math.min(Math.max(turnStart, end - 2 * chunk), end - MIN_QUERY_TOKENS));
        int[] query = new int[end - from];
        int fromWindow = Math.max(0, length - from);
        System.arraycopy(ids, from, query, 0, Math.min(fromWindow, query.length));
        System.arraycopy(pending, 0, query, fromWindow, pending.length);
        return query;
    }

    /** Retrieves for the newest part of the window plus the pending tokens ({@link #queryTokens}). */
    private void retrieve(int[] pending) {
        closeMemory();
        if (bank.chunkCount() == 0) {
            return;
        }
        int length = cache.length(slot);
        int[] query = queryTokens(window, length, turnStart, pending);
        long t0 = System.nanoTime();
        String text = tokenizer.decode(query, true);
        float[] embedding = retriever.embed(List.of(text))[0];
        long t1 = System.nanoTime();
        List<ScoredChunk> hits = bank.topK(embedding, settings.topK());
        long t2 = System.nanoTime();
        MemoryGather.Gathered gathered = gather.gather(bank, hits.stream().map(ScoredChunk::seq).toList(),
                settings.nextChunks());
        Map<Long, Float> scores = new HashMap<>();
        hits.forEach(h -> scores.put(h.seq(), h.score()));
        Float last = null;
        for (MemoryChunk c : gathered.chunks()) { // a chunk read after a hit (chronological) reports the hit's score
            last = scores.containsKey(c.seq()) ? scores.get(c.seq()) : last;
            scores.putIfAbsent(c.seq(), last);
        }
        bank.recordRetrieval(gathered.chunks().stream().map(MemoryChunk::seq).toList());
        long t3 = System.nanoTime();
        memory = model.memoryKv(gathered.keys(), gathered.values(), gathered.tokens());
        long t4 = System.nanoTime();
        List<Retrieval.RetrievedChunk> used = new ArrayList<>(gathered.chunks().size());
        for (MemoryChunk c : gathered.chunks()) {
            used.add(new Retrieval.RetrievedChunk(c.seq(), scores.get(c.seq()), c.text()));
        }
        retrievalListener.accept(new Retrieval(length, text, List.copyOf(used),
                new Retrieval.Timings(t1 - t0, t2 - t1, t3 - t2, t4 - t3)));
    }

    private void closeMemory() {
        if (memory != null) {
            memory.close();
            memory = null;
        }
    }

    /** Releases the retrieved memory and the slot's cache rows; the bank belongs to the caller. */
    @Override
    public void close() {
        closeMemory();
        cache.reset(slot);
    }
}
