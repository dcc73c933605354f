package dev.memlong.runtime.memlong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvCodec;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MemoryGatherTest {

    private static final int HEADS = 2;
    private static final int DIM = 3;
    private static final int PER_TOKEN = HEADS * DIM;

    @Test
    void decodesChosenChunksInChronologicalOrderAndReusesItsArrays() {
        KvLayout layout = new KvLayout(HEADS, DIM, KvDType.BF16, 4);
        Random rnd = new Random(5);
        List<float[]> keys = new ArrayList<>();
        List<float[]> values = new ArrayList<>();
        List<Long> seqs = new ArrayList<>();
        try (InMemoryMemoryBank bank = new InMemoryMemoryBank(layout, 1000, EvictionPolicy.FIFO)) {
            for (int c = 0; c < 5; c++) {
                int tokens = 4;
                float[] k = new float[tokens * PER_TOKEN];
                float[] v = new float[tokens * PER_TOKEN];
                for (int i = 0; i < k.length; i++) {
                    k[i] = (float) rnd.nextGaussian();
                    v[i] = (float) rnd.nextGaussian();
                }
                keys.add(k);
                values.add(v);
                seqs.add(bank.append(new NewChunk(new int[tokens], "c" + c, new float[] {1, 0, 0, 0},
                        KvCodec.encode(k, KvDType.BF16), KvCodec.encode(v, KvDType.BF16))));
            }
            MemoryGather gather = new MemoryGather(PER_TOKEN);
            MemoryGather.Gathered g = gather.gather(bank, List.of(seqs.get(3), seqs.get(0), seqs.get(2)));
            assertEquals(12, g.tokens());
            assertEquals(List.of(seqs.get(0), seqs.get(2), seqs.get(3)), g.chunks().stream().map(c -> c.seq()).toList());
            float[] expectedKeys = concatDecoded(keys.get(0), keys.get(2), keys.get(3));
            float[] expectedValues = concatDecoded(values.get(0), values.get(2), values.get(3));
            assertArrayEquals(expectedKeys, g.keys(), 0f);
            assertArrayEquals(expectedValues, g.values(), 0f);

            MemoryGather.Gathered same = gather.gather(bank, List.of(seqs.get(1), seqs.get(4), seqs.get(0)));
            assertSame(g.keys(), same.keys(), "same token count: the arrays are reused");
            assertArrayEquals(concatDecoded(keys.get(0), keys.get(1), keys.get(4)), same.keys(), 0f);

            MemoryGather.Gathered fewer = gather.gather(bank, List.of(seqs.get(1)));
            assertEquals(4 * PER_TOKEN, fewer.keys().length, "exact length for the model");
            assertArrayEquals(concatDecoded(values.get(1)), fewer.values(), 0f);
        }
    }

    /**
     * A retrieval reads each hit and the chunks stored after it, each once, chronologically; a successor the bank
     * does not hold (the newest chunk's) is skipped.
     */
    @Test
    void readsEachHitWithTheChunksStoredAfterIt() {
        KvLayout layout = new KvLayout(HEADS, DIM, KvDType.BF16, 4);
        Random rnd = new Random(9);
        List<float[]> keys = new ArrayList<>();
        try (InMemoryMemoryBank bank = new InMemoryMemoryBank(layout, 1000, EvictionPolicy.FIFO)) {
            for (int c = 0; c < 6; c++) {
                float[] k = new float[2 * PER_TOKEN];
                for (int i = 0; i < k.length; i++) {
                    k[i] = (float) rnd.nextGaussian();
                }
                keys.add(k);
                bank.append(new NewChunk(new int[2], "c" + c, new float[] {1, 0, 0, 0}, KvCodec.encode(k, KvDType.BF16),
                        KvCodec.encode(k, KvDType.BF16)));
            }
            MemoryGather gather = new MemoryGather(PER_TOKEN);
            MemoryGather.Gathered g = gather.gather(bank, List.of(3L, 0L), 1);
            assertEquals(List.of(0L, 1L, 3L, 4L), g.chunks().stream().map(c -> c.seq()).toList());
            assertArrayEquals(concatDecoded(keys.get(0), keys.get(1), keys.get(3), keys.get(4)), g.keys(), 0f);
            assertEquals(List.of(1L, 2L, 3L), gather.gather(bank, List.of(1L, 2L), 1).chunks().stream()
                    .map(c -> c.seq()).toList(), "a successor that is a hit is read once");
            assertEquals(List.of(4L, 5L), gather.gather(bank, List.of(4L), 3).chunks().stream()
                    .map(c -> c.seq()).toList(), "the newest chunk has no successor yet");
            assertEquals(List.of(2L), gather.gather(bank, List.of(2L), 0).chunks().stream()
                    .map(c -> c.seq()).toList());
        }
    }

    /** Each array rounded through bf16, then concatenated. */
    private static float[] concatDecoded(float[]... parts) {
        float[] out = new float[0];
        for (float[] p : parts) {
            float[] d = KvCodec.decode(KvCodec.encode(p, KvDType.BF16), KvDType.BF16);
            int at = out.length;
            out = Arrays.copyOf(out, at + d.length);
            System.arraycopy(d, 0, out, at, d.length);
        }
        return out;
    }
}
