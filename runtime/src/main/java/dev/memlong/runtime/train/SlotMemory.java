package dev.memlong.runtime.train;

import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvCodec;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemorySettings;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.runtime.memlong.MemoryGather;
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
 * <p>Retrieval follows inference, where a reply reads the chunks its user turn retrieved. A chat segment is split
 * into exchanges, each from a {@code <|user|>} token to the next (the tokens before the first continue the exchange
 * of the previous segment), and each exchange gets its own top-k chunks ({@link SegmentMemory#perPiece}: its tokens
 * read its chunks only), queried as inference queries a new input: by the user's turn up to and including the
 * {@code <|assistant|>} marker, at most its last two chunks of tokens. Text without chat markers is split into
 * chunk-sized pieces instead, each queried by itself and the piece before it (inference retrieves again at every
 * chunk boundary).
 *
 * <p>Until session 10 a segment had one memory for all its turns (the top-k by the best score over its 32-token
 * pieces): at top-k 1 most questions of a segment then trained without the chunk that answers them, and the model
 * learnt to answer from its prior. Pieces queried by their own text (session 11's first try) let a reply's own
 * words ("your son's food is fish") retrieve the acknowledgement's chunk, which a question never does.
 */
final class SlotMemory implements AutoCloseable {

    /** A segment's pieces: where each starts, and the keys and values (token-major {@code [tokens, KV, D]}) it reads. */
    record Retrieved(int[] starts, float[][] keys, float[][] values) {}

    private final MemoryBank bank;
    private final Retriever retriever;
    private final TextTokenizer tokenizer;
    private final MemorySettings settings;
    private final int perToken;
    private final MemoryGather gather;
    private final int userMarker;      // -1 where the tokenizer has no chat markers
    private final int assistantMarker;
    private int[] openQuery = new int[0]; // the query of the piece the next segment continues
    private boolean queryComplete;     // whether openQuery reached its assistant marker

    SlotMemory(MemorySettings settings, Retriever retriever, TextTokenizer tokenizer, int kvHeads, int headDim) {
        this.settings = settings;
        this.retriever = retriever;
        this.tokenizer = tokenizer;
        this.perToken = kvHeads * headDim;
        this.gather = new MemoryGather(perToken);
        this.bank = new InMemoryMemoryBank(settings.layout(kvHeads, headDim, retriever.dimension(), retriever.id()),
                settings.capacityTokens(), settings.eviction());
        java.util.OptionalInt user = tokenizer.tokenId("<|user|>");
        java.util.OptionalInt assistant = tokenizer.tokenId("<|assistant|>");
        boolean chat = user.isPresent() && assistant.isPresent();
        this.userMarker = chat ? user.getAsInt() : -1;
        this.assistantMarker = chat ? assistant.getAsInt() : -1;
    }

    /** A new document: nothing read yet. */
    void clear() {
        bank.clear();
        openQuery = new int[0];
        queryComplete = false;
    }

    int chunks() {
        return bank.chunkCount();
    }

    /**
     * The pieces of {@code segment} and the top-k chunks each reads, chronological (empty arrays while the bank is
     * empty). Call once per segment, in order: a segment's first piece continues the previous one's last.
     */
    Retrieved retrieve(int[] segment) {
        List<Integer> starts = new ArrayList<>();
        List<int[]> queries = new ArrayList<>();
        if (userMarker >= 0 && (openQuery.length > 0 || contains(segment, userMarker))) {
            exchanges(segment, starts, queries);
        } else {
            chunkPieces(segment, starts, queries);
        }
        int pieces = starts.size();
        float[][] keys = new float[pieces][];
        float[][] values = new float[pieces][];
        if (bank.chunkCount() == 0) {
            Arrays.fill(keys, new float[0]);
            Arrays.fill(values, new float[0]);
        } else {
            List<String> texts = new ArrayList<>(pieces);
            int cap = 2 * settings.chunkSize(); // inference's query: at most the newest two chunks of the input
            for (int[] q : queries) {
                texts.add(tokenizer.decode(Arrays.copyOfRange(q, Math.max(0, q.length - cap), q.length), true));
            }
            float[][] embeddings = retriever.embed(texts);
            for (int j = 0; j < pieces; j++) {
                float[][] kv = read(bank.topK(embeddings[j], settings.topK()));
                keys[j] = kv[0];
                values[j] = kv[1];
            }
        }
        return new Retrieved(starts.stream().mapToInt(Integer::intValue).toArray(), keys, values);
    }

    /** Exchanges: a piece from each user marker, the first continuing the previous segment's open exchange. */
    private void exchanges(int[] segment, List<Integer> starts, List<int[]> queries) {
        int[] query = openQuery;
        boolean complete = queryComplete;
        int pieceStart = 0;
        for (int i = 0; i < segment.length; i++) {
            if (segment[i] == userMarker) {
                if (i > 0) {
                    starts.add(pieceStart);
                    queries.add(query);
                }
                pieceStart = i;
                query = new int[0];
                complete = false;
            }
            if (!complete) { // the user's turn, up to and including the assistant marker
                query = Arrays.copyOf(query, query.length + 1);
                query[query.length - 1] = segment[i];
                complete = segment[i] == assistantMarker;
            }
        }
        starts.add(pieceStart);
        queries.add(query);
        openQuery = query;
        queryComplete = complete;
    }

    /** Chunk-sized pieces, each queried by itself and the piece before it. */
    private void chunkPieces(int[] segment, List<Integer> starts, List<int[]> queries) {
        int piece = settings.chunkSize();
        int[] before = openQuery;
        for (int from = 0; from < segment.length; from += piece) {
            int[] current = Arrays.copyOfRange(segment, from, Math.min(segment.length, from + piece));
            int[] query = Arrays.copyOf(before, before.length + current.length);
            System.arraycopy(current, 0, query, before.length, current.length);
            starts.add(from);
            queries.add(query);
            before = current;
        }
        if (starts.isEmpty()) {
            starts.add(0);
            queries.add(before);
        }
        openQuery = before;
        queryComplete = false;
    }

    private static boolean contains(int[] ids, int id) {
        for (int x : ids) {
            if (x == id) {
                return true;
            }
        }
        return false;
    }

    /** The chunks' keys and values, token-major, chronological (copies: each piece keeps its own). */
    private float[][] read(List<ScoredChunk> hits) {
        MemoryGather.Gathered g = gather.gather(bank, hits.stream().map(ScoredChunk::seq).toList(),
                settings.nextChunks());
        bank.recordRetrieval(g.chunks().stream().map(dev.memlong.memory.MemoryChunk::seq).toList());
        return new float[][] {g.keys().clone(), g.values().clone()};
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
