package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.memlong.actors.scheduler.DeviceReplica;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.storage.ChunkSummary;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.RocksMemoryBank;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The invariant MemLong's continual training rests on: after a round, the embeddings, layers 0..m and lm_head of
 * every device are the very same arrays with the same bytes (and those of the base checkpoint), every stored memory
 * K/V is bit-identical, and a conversation's memory keeps working on the new version.
 */
class TrainerInvariantTest {

    private static final int MEMORY_LAYER = 2;
    private static final GenerationParams GREEDY = GenerationParams.greedy(8).withIgnoreEos(true);

    @TempDir
    Path data;

    @Test
    void aRoundLeavesTheFrozenPartAndEveryStoredKvBitIdenticalAndMemoryKeepsWorking() {
        List<DeviceReplica> replicas = new CopyOnWriteArrayList<>();
        try (MemLongRuntime rt = TrainerFixtures.start(data, 2, "memlong.actors.trainer.tolerance = 1.0",
                (a, s, t) -> { }, replicas::add)) {
            Conversation c = rt.conversation("t", "remembers");
            c.send(TestRuntimes.message("My dog is called Rex.", 40, 1), GREEDY).join();
            for (int i = 0; i < 3; i++) {
                c.send(TestRuntimes.message("Another thing " + i + ":", 30, i + 2), GREEDY).join();
            }
            List<ChunkSummary> memory = c.memory().toCompletableFuture().join();
            assertTrue(memory.size() >= 8, "the conversation has memory: " + memory.size() + " chunks");
            ConversationKey key = c.key();
            Map<Long, byte[][]> kvBefore = storedKv(rt, key);
            TrainerFixtures.seedFour(rt.store());

            Map<DeviceReplica, List<NDArray>> frozen = new LinkedHashMap<>();
            Map<DeviceReplica, List<byte[]>> frozenBytes = new LinkedHashMap<>();
            for (DeviceReplica r : replicas) {
                List<NDArray> arrays = r.engine().model().frozenArrays(MEMORY_LAYER);
                frozen.put(r, arrays);
                frozenBytes.put(r, arrays.stream().map(NDArray::toByteArray).toList());
            }
            List<byte[]> upperBefore = upperBytes(replicas.get(0));

            RoundReport report = rt.train().toCompletableFuture().join();
            assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome(), report.message());
            assertTrue(report.trainConversations().contains(key) || report.heldoutConversations().contains(key));

            List<byte[]> reference;
            try (LlamaModel base = LlamaModel.load(TestRuntimes.model())) {
                reference = base.frozenArrays(MEMORY_LAYER).stream().map(NDArray::toByteArray).toList();
            }
            assertEquals(2, replicas.size());
            for (DeviceReplica r : replicas) {
                assertEquals(1, r.version());
                List<NDArray> after = r.engine().model().frozenArrays(MEMORY_LAYER);
                assertEquals(frozen.get(r).size(), after.size());
                for (int i = 0; i < after.size(); i++) {
                    assertSame(frozen.get(r).get(i), after.get(i), "frozen array " + i + " is the same object");
                    assertArrayEquals(frozenBytes.get(r).get(i), after.get(i).toByteArray(), "frozen array " + i);
                    assertArrayEquals(reference.get(i), after.get(i).toByteArray(),
                            "frozen array " + i + " equals the base checkpoint's");
                }
            }
            List<byte[]> upperAfter = upperBytes(replicas.get(0));
            boolean changed = false;
            for (int i = 0; i < upperAfter.size(); i++) {
                changed |= !java.util.Arrays.equals(upperBefore.get(i), upperAfter.get(i));
            }
            assertTrue(changed, "the layers above the memory layer did change");
            assertKvUnchanged(kvBefore, storedKv(rt, key));

            // memory keeps working on the new version: the question retrieves the stored chunks
            Reply answer = c.send("What is my dog called? Rex?", GREEDY).join();
            assertEquals(List.of(1L), answer.modelVersions());
            assertFalse(answer.retrieved().isEmpty(), "retrieved from memory after the swap");
            List<String> texts = c.memory().toCompletableFuture().join().stream().map(ChunkSummary::text).toList();
            for (RetrievedChunk chunk : answer.retrieved()) {
                assertTrue(texts.contains(chunk.text()), "a stored chunk: " + chunk);
            }
            assertKvUnchanged(kvBefore, storedKv(rt, key));
        }
    }

    /** Every stored chunk's K/V bytes, by chunk sequence number. */
    private static Map<Long, byte[][]> storedKv(MemLongRuntime rt, ConversationKey key) {
        RocksMemoryBank bank = rt.store().activate(key); // the conversation's active bank: not ours to close
        Map<Long, byte[][]> kv = new LinkedHashMap<>();
        for (MemoryChunk chunk : bank.fetch(bank.seqs())) {
            kv.put(chunk.seq(), new byte[][] {chunk.keys().clone(), chunk.values().clone()});
        }
        return kv;
    }

    private static void assertKvUnchanged(Map<Long, byte[][]> before, Map<Long, byte[][]> after) {
        for (Map.Entry<Long, byte[][]> e : before.entrySet()) {
            byte[][] now = after.get(e.getKey());
            if (now == null) {
                continue; // evicted by a later turn (capacity), not changed
            }
            assertArrayEquals(e.getValue()[0], now[0], "keys of chunk " + e.getKey());
            assertArrayEquals(e.getValue()[1], now[1], "values of chunk " + e.getKey());
        }
        assertTrue(after.keySet().containsAll(before.keySet()), "no chunk was lost");
    }

    /** The bytes of everything a replica's model has beyond its frozen part (upper layers, final norm). */
    private static List<byte[]> upperBytes(DeviceReplica r) {
        LlamaModel model = r.engine().model();
        List<NDArray> all = model.frozenArrays(model.config().numLayers() - 1);
        List<NDArray> frozen = model.frozenArrays(MEMORY_LAYER);
        return all.stream().filter(a -> frozen.stream().noneMatch(f -> f == a)).map(NDArray::toByteArray).toList();
    }
}
