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
 * <p>Retrieval follows inference, which retrieves again at every chunk boundary with a query of at most the newest
 * two chunks of the current input: a segment is split into pieces of one chunk, and each piece gets its own top-k
 * chunks, queried by the piece and the chunk before it ({@link SegmentMemory#perPiece}: a piece's tokens read its
 * chunks only). A segment holds several turns; one memory for all of it (as sessions 1 to 10 trained, the top-k by
 * the best score over its pieces) left most questions at top-k 1 without the chunk that answers them, so the model
 * learnt to answer from its prior even where inference had retrieved the right chunk.
 */
final class SlotMemory implements AutoCloseable {

    private final MemoryBank bank;
    private final Retriever retriever;
    private final TextTokenizer tokenizer;
    private final MemorySettings settings;
    private final int perToken;
    private int[] lastPiece = new int[0]; // the previous segment's last piece: the first piece's query starts there

    SlotMemory(MemorySettings settings, Retriever retriever, TextTokenizer tokenizer, int kvHeads, int headDim) {
        this.settings = settings;
        this.retriever = retriever;
        this.tokenizer = tokenizer;
        this.perToken = kvHeads * headDim;
        this.bank = new InMemoryMemoryBank(settings.layout(kvHeads, headDim, retriever.dimension()),
                settings.capacityTokens(), settings.eviction());
    }

    /** A new document: nothing read yet. */
    void clear() {
        bank.clear();
        lastPiece = new int[0];
    }

    int chunks() {
        return bank.chunkCount();
    }

    /** Tokens per piece, each with its own retrieval: one chunk, as inference retrieves at every chunk boundary. */
    int pieceLength() {
        return settings.chunkSize();
    }

    /**
     * Keys and values (token-major {@code [tokens, KV, D]}) of each piece's top-k chunks, chronological:
     * {@code [0]} the keys per piece, {@code [1]} the values per piece (empty arrays while the bank is empty).
     * Call once per segment, in order: the next segment's first query starts with this one's last piece.
     */
    float[][][] retrieve(int[] segment) {
        int piece = pieceLength();
        int pieces = (segment.length + piece - 1) / piece;
        float[][][] kv = new float[2][pieces][];
        List<String> queries = new ArrayList<>(pieces);
        int[] before = lastPiece;
        for (int j = 0; j < pieces; j++) {
            int[] current = Arrays.copyOfRange(segment, j * piece, Math.min(segment.length, (j + 1) * piece));
            int[] query = Arrays.copyOf(before, before.length + current.length);
            System.arraycopy(current, 0, query, before.length, current.length);
            queries.add(tokenizer.decode(query, true));
            before = current;
        }
        lastPiece = before;
        if (bank.chunkCount() == 0) {
            Arrays.fill(kv[0], new float[0]);
            Arrays.fill(kv[1], new float[0]);
            return kv;
        }
        float[][] embeddings = retriever.embed(queries);
        for (int j = 0; j < pieces; j++) {
            List<Long> seqs = bank.topK(embeddings[j], settings.topK()).stream().map(ScoredChunk::seq).sorted().toList();
            List<MemoryChunk> chunks = bank.fetch(seqs);
            bank.recordRetrieval(seqs);
            int tokens = chunks.stream().mapToInt(MemoryChunk::tokens).sum();
            kv[0][j] = new float[tokens * perToken];
            kv[1][j] = new float[tokens * perToken];
            int offset = 0;
            for (MemoryChunk c : chunks) {
                int n = c.tokens() * perToken;
                KvCodec.decode(c.keys(), 0, n, bank.layout().dtype(), kv[0][j], offset);
                KvCodec.decode(c.values(), 0, n, bank.layout().dtype(), kv[1][j], offset);
                offset += n;
            }
        }
        return kv;
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
