package dev.memlong.actors.conversation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvCodec;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import dev.memlong.runtime.memlong.MemoryGather;
import java.util.List;
import org.junit.jupiter.api.Test;

class StagingBankTest {

    private static final KvLayout LAYOUT = new KvLayout(1, 2, KvDType.FP32, 2);
    private static final int END = 2; // any token id

    private static NewChunk chunk(int... ids) {
        float[] kv = new float[ids.length * 2];
        for (int i = 0; i < kv.length; i++) {
            kv[i] = ids[i / 2] + (i % 2) / 10f;
        }
        return new NewChunk(ids, "c", new float[] {1, 0}, KvCodec.encode(kv, KvDType.FP32),
                KvCodec.encode(kv, KvDType.FP32));
    }

    /**
     * The text after the newest stored chunk is the first chunk staged in this turn: a hit on the newest stored chunk
     * is read with its continuation before the turn commits, as after.
     */
    @Test
    void theNewestStoredChunkIsFollowedByTheFirstStagedOne() {
        try (InMemoryMemoryBank durable = new InMemoryMemoryBank(LAYOUT, 1000, EvictionPolicy.FIFO)) {
            long first = durable.append(chunk(5, 6, 7));
            long newest = durable.append(chunk(8, 9, 10));
            StagingBank bank = new StagingBank(durable);
            assertEquals(newest + 1, bank.successor(newest), "nothing staged: the next number");
            long staged = bank.append(chunk(11, END, 12));
            long staged2 = bank.append(chunk(13, 14, 15));
            assertEquals(StagingBank.STAGED_BASE, staged);
            assertEquals(newest, bank.successor(first));
            assertEquals(staged, bank.successor(newest));
            assertEquals(staged2, bank.successor(staged));

            MemoryGather.Gathered g = new MemoryGather(2).gather(bank, List.of(newest), 1);
            assertEquals(List.of(newest, staged), g.chunks().stream().map(c -> c.seq()).toList());

            bank.committed(List.of(durable.append(chunk(11, END, 12)), durable.append(chunk(13, 14, 15))));
            MemoryGather.Gathered after = new MemoryGather(2).gather(bank, List.of(newest), 1);
            assertEquals(List.of(newest, newest + 1), after.chunks().stream().map(c -> c.seq()).toList());
            assertArrayEquals(g.keys(), after.keys(), 0f, "the same text read before and after the commit");
        }
    }
}
