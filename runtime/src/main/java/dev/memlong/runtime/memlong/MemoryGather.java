package dev.memlong.runtime.memlong;

import dev.memlong.memory.KvCodec;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * The K/V gather step of a retrieval: the chosen chunks fetched from the bank in chronological order and their
 * stored K/V decoded into two float arrays, {@code [tokens, kvHeads, headDim]} row-major, ready for
 * {@code LlamaModel.memoryKv} (which copies them). Each chunk's bytes are decoded straight into their place.
 *
 * <p>The two float arrays are reused from one gather to the next whenever the retrieved token count repeats (it
 * always does once the bank holds top-k chunks): at top-k 8 and chunk 128 they are 3 MB each for the 110M model,
 * and allocating them per retrieval made the JVM take a GC (humongous allocation) inside every few gathers.
 * One instance per sequence; not thread-safe.
 */
public final class MemoryGather {

    private final int perToken;
    private float[] keys = new float[0];
    private float[] values = new float[0];

    /** @param perToken K (or V) values per token: kvHeads x headDim of the bank's layout */
    public MemoryGather(int perToken) {
        if (perToken <= 0) {
            throw new IllegalArgumentException("perToken must be positive, got " + perToken);
        }
        this.perToken = perToken;
    }

    /**
     * What one gather produced. The arrays belong to the {@link MemoryGather} and are overwritten by its next gather.
     *
     * @param chunks the fetched chunks, chronological
     * @param keys   their keys, concatenated: exactly {@code tokens * perToken} values
     * @param values their values, concatenated
     * @param tokens tokens in all chunks
     */
    public record Gathered(List<MemoryChunk> chunks, float[] keys, float[] values, int tokens) {}

    /**
     * What one retrieval reads: each hit and the {@code nextChunks} chunks stored after it ({@link
     * MemoryBank#successor}), each once, chronological ({@code memlong.memory.next-chunks}).
     */
    public Gathered gather(MemoryBank bank, Collection<Long> hits, int nextChunks) {
        TreeSet<Long> seqs = new TreeSet<>();
        for (long h : hits) {
            long s = h;
            seqs.add(s);
            for (int n = 0; n < nextChunks; n++) {
                s = bank.successor(s);
                seqs.add(s);
            }
        }
        return gather(bank, seqs);
    }

    /** Fetches {@code seqs} from {@code bank} (chronological order) and decodes their K/V. */
    public Gathered gather(MemoryBank bank, Collection<Long> seqs) {
        List<MemoryChunk> chunks = bank.fetch(seqs);
        KvDType dtype = bank.layout().dtype();
        int tokens = 0;
        for (MemoryChunk c : chunks) {
            tokens += c.tokens();
        }
        int length = Math.multiplyExact(tokens, perToken);
        if (keys.length != length) {
            keys = new float[length];
            values = new float[length];
        }
        int offset = 0;
        for (MemoryChunk c : chunks) {
            int n = c.tokens() * perToken;
            KvCodec.decode(c.keys(), 0, n, dtype, keys, offset);
            KvCodec.decode(c.values(), 0, n, dtype, values, offset);
            offset += n;
        }
        return new Gathered(chunks, keys, values, tokens);
    }
}
