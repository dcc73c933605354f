package dev.memlong.runtime.train;

import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvCodec;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.MemorySettings;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One batch slot's memory while training: a bank of the chunks of the slot's current document that it has already
 * read, with the memory layer's K/V as the forward computed them (detached) and the frozen retriever's embeddings.
 * Retrieval for a segment runs before the segment is stored, so a chunk never retrieves itself.
 *
 * <p>A segment holds several turns but gets one memory, so it is queried piece by piece: every
 * {@value #QUERY_TOKENS} tokens are one query (at inference the query is the current turn, about that long), and
 * the segment gets the top-k chunks by their best score over its queries. One query of the whole segment's text
 * would retrieve by the segment's small talk, not by the question in it, and the model would never see the chunk
 * that answers it.
 */
final class SlotMemory implements AutoCloseable {

    private final MemoryBank bank;
    private final Retriever retriever;
    private final TextTokenizer tokenizer;
    private final MemorySettings settings;
    private final int perToken;

    SlotMemory(MemorySettings settings, Retriever retriever, TextTokenizer tokenizer, int kvHeads, int headDim) {
        this.settings = settings;
        this.retriever = retriever;
        this.tokenizer = tokenizer;
        this.perToken = kvHeads * headDim;
        this.bank = new InMemoryMemoryBank(settings.layout(kvHeads, headDim, retriever.dimension()),
                settings.capacityTokens(), settings.eviction());
    }

    void clear() {
        bank.clear();
    }

    int chunks() {
        return bank.chunkCount();
    }

    /** Tokens per query: about one user turn. */
    static final int QUERY_TOKENS = 32;

    /** Keys and values (token-major {@code [tokens, KV, D]}) of the top-k chunks for this segment, chronological. */
    float[][] retrieve(int[] segment) {
        if (bank.chunkCount() == 0) {
            return new float[][] {new float[0], new float[0]};
        }
        List<String> queries = new ArrayList<>();
        for (int from = 0; from < segment.length; from += QUERY_TOKENS) {
            queries.add(tokenizer.decode(Arrays.copyOfRange(segment, from, Math.min(segment.length, from + QUERY_TOKENS)), true));
        }
        java.util.Map<Long, Float> best = new java.util.HashMap<>();
        for (float[] query : retriever.embed(queries)) {
            for (ScoredChunk hit : bank.topK(query, settings.topK())) {
                best.merge(hit.seq(), hit.score(), Math::max);
            }
        }
        List<Long> seqs = best.entrySet().stream()
                .sorted(java.util.Map.Entry.<Long, Float>comparingByValue().reversed()
                        .thenComparing(java.util.Map.Entry.comparingByKey()))
                .limit(settings.topK()).map(java.util.Map.Entry::getKey).sorted().toList();
        List<MemoryChunk> chunks = bank.fetch(seqs);
        bank.recordRetrieval(seqs);
        int tokens = chunks.stream().mapToInt(MemoryChunk::tokens).sum();
        float[] keys = new float[tokens * perToken];
        float[] values = new float[tokens * perToken];
        int offset = 0;
        for (MemoryChunk c : chunks) {
            int n = c.tokens() * perToken;
            KvCodec.decode(c.keys(), 0, n, bank.layout().dtype(), keys, offset);
            KvCodec.decode(c.values(), 0, n, bank.layout().dtype(), values, offset);
            offset += n;
        }
        return new float[][] {keys, values};
    }

    /** Stores the whole chunks of a segment (a trailing partial chunk at a document's end is dropped). */
    void store(int[] segment, float[] keys, float[] values) {
        int chunk = settings.chunkSize();
        int chunks = segment.length / chunk;
        if (chunks == 0) {
            return;
        }
        List<String> texts = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) {
            texts.add(tokenizer.decode(Arrays.copyOfRange(segment, c * chunk, (c + 1) * chunk), true));
        }
        float[][] embeddings = retriever.embed(texts);
        for (int c = 0; c < chunks; c++) {
            int from = c * chunk * perToken;
            int to = (c + 1) * chunk * perToken;
            bank.append(new NewChunk(Arrays.copyOfRange(segment, c * chunk, (c + 1) * chunk), texts.get(c), embeddings[c],
                    KvCodec.encode(Arrays.copyOfRange(keys, from, to), bank.layout().dtype()),
                    KvCodec.encode(Arrays.copyOfRange(values, from, to), bank.layout().dtype())));
        }
    }

    @Override
    public void close() {
        bank.close();
    }
}
