package dev.memlong.runtime.memlong;

import dev.memlong.memory.KvCodec;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import java.util.Collection;
import java.util.List;

/**
 * The K/V gather step of a retrieval: the chosen chunks fetched from the bank in chronological order and their
 * stored K/V decoded into two float arrays, {@code [tokens, kvHeads, headDim]} row-major, ready for
 * {@code LlamaModel.memoryKv}. One pass, no intermediate copies: each chunk's bytes are decoded straight into
 * their place in the output.
 *
 * @param chunks the fetched chunks, chronological
 * @param keys   their keys, concatenated
 * @param values their values, concatenated
 * @param tokens tokens in all chunks
 */
public record MemoryGather(List<MemoryChunk> chunks, float[] keys, float[] values, int tokens) {

    /**
     * Fetches {@code seqs} from {@code bank} and decodes their K/V.
     *
     * @param perToken K (or V) values per token: kvHeads x headDim of the bank's layout
     */
    public static MemoryGather of(MemoryBank bank, Collection<Long> seqs, int perToken) {
        List<MemoryChunk> chunks = bank.fetch(seqs);
        KvDType dtype = bank.layout().dtype();
        int tokens = 0;
        for (MemoryChunk c : chunks) {
            tokens += c.tokens();
        }
        float[] keys = new float[Math.multiplyExact(tokens, perToken)];
        float[] values = new float[keys.length];
        int offset = 0;
        for (MemoryChunk c : chunks) {
            int n = c.tokens() * perToken;
            KvCodec.decode(c.keys(), 0, n, dtype, keys, offset);
            KvCodec.decode(c.values(), 0, n, dtype, values, offset);
            offset += n;
        }
        return new MemoryGather(chunks, keys, values, tokens);
    }
}
