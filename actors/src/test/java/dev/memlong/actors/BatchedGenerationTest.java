package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Continuous batching changes nothing a conversation sees: 8 conversations with different prompt lengths (so
 * different memory sizes) produce, greedy, exactly the tokens each produces alone, on one device and on two.
 */
class BatchedGenerationTest {

    private static final int CONVERSATIONS = 8;
    private static final GenerationParams GREEDY = GenerationParams.greedy(12).withIgnoreEos(true);
    private static List<List<Reply>> alone;

    @TempDir
    static Path shared;

    private static String first(int i) {
        return TestRuntimes.message("Conversation " + i + " says my cat is called Tom" + i + ".", 6 + 9 * i, i);
    }

    private static String second(int i) {
        return "What is the name of my cat, number " + i + "?";
    }

    /** Each conversation alone: turns sent one at a time, one conversation after the other. */
    @BeforeAll
    static void runAlone() {
        alone = new ArrayList<>();
        try (MemLongRuntime rt = TestRuntimes.start(shared.resolve("alone"), 1, CONVERSATIONS, 8)) {
            for (int i = 0; i < CONVERSATIONS; i++) {
                Conversation c = rt.conversation("t", "c" + i);
                Reply a = c.send(first(i), GREEDY).join();
                Reply b = c.send(second(i), GREEDY).join();
                alone.add(List.of(a, b));
            }
        }
        Set<Long> memory = alone.stream().map(r -> r.get(1).memoryTokens()).collect(Collectors.toSet());
        assertTrue(memory.size() >= 4, "conversations have different memory sizes: " + memory);
        assertTrue(alone.stream().anyMatch(r -> !r.get(1).retrieved().isEmpty()), "memory was retrieved");
    }

    private static List<List<Reply>> concurrently(MemLongRuntime rt) {
        List<CompletableFuture<Reply>> firsts = new ArrayList<>();
        for (int i = 0; i < CONVERSATIONS; i++) {
            firsts.add(rt.conversation("t", "c" + i).send(first(i), GREEDY));
        }
        List<CompletableFuture<Reply>> seconds = new ArrayList<>();
        for (int i = 0; i < CONVERSATIONS; i++) {
            seconds.add(rt.conversation("t", "c" + i).send(second(i), GREEDY)); // queued behind the first turn
        }
        List<List<Reply>> out = new ArrayList<>();
        for (int i = 0; i < CONVERSATIONS; i++) {
            out.add(List.of(firsts.get(i).join(), seconds.get(i).join()));
        }
        return out;
    }

    private static void assertSameTokens(List<List<Reply>> batched) {
        assertSameTokens(alone, batched);
    }

    private static void assertSameTokens(List<List<Reply>> alone, List<List<Reply>> batched) {
        for (int i = 0; i < CONVERSATIONS; i++) {
            for (int t = 0; t < 2; t++) {
                Reply a = alone.get(i).get(t);
                Reply b = batched.get(i).get(t);
                assertEquals(a.tokenIds(), b.tokenIds(), "conversation " + i + " turn " + t);
                assertEquals(a.text(), b.text());
                assertEquals(a.memoryTokens(), b.memoryTokens(), "conversation " + i + " turn " + t + " memory");
                assertEquals(a.retrieved().stream().map(RetrievedChunk::seq).toList(),
                        b.retrieved().stream().map(RetrievedChunk::seq).toList());
            }
        }
    }

    @Test
    void eightConcurrentConversationsGenerateWhatEachGeneratesAlone(@TempDir Path data) {
        try (MemLongRuntime rt = TestRuntimes.start(data, 1, CONVERSATIONS, 8)) {
            assertSameTokens(concurrently(rt));
        }
    }

    /** The same over bfloat16 KV caches (memlong.model.kv-cache-dtype), against each conversation alone there. */
    @Test
    void overBfloat16CachesConcurrentConversationsGenerateWhatEachGeneratesAlone(@TempDir Path data) {
        String bf16 = "memlong.model.kv-cache-dtype = bfloat16";
        List<List<Reply>> aloneBf16 = new ArrayList<>();
        try (MemLongRuntime rt = TestRuntimes.start(data.resolve("alone"), 1, CONVERSATIONS, 8, bf16,
                dev.memlong.actors.conversation.FaultInjector.NONE)) {
            for (int i = 0; i < CONVERSATIONS; i++) {
                Conversation c = rt.conversation("t", "c" + i);
                aloneBf16.add(List.of(c.send(first(i), GREEDY).join(), c.send(second(i), GREEDY).join()));
            }
        }
        try (MemLongRuntime rt = TestRuntimes.start(data.resolve("batched"), 1, CONVERSATIONS, 8, bf16,
                dev.memlong.actors.conversation.FaultInjector.NONE)) {
            assertSameTokens(aloneBf16, concurrently(rt));
        }
    }

    @Test
    void twoCpuWorkersAreBothUsedAndAgreeWithOneDevice(@TempDir Path data) {
        try (MemLongRuntime rt = TestRuntimes.start(data, 2, CONVERSATIONS, 8)) {
            List<List<Reply>> replies = concurrently(rt);
            assertSameTokens(replies);
            Set<Integer> devices = replies.stream().flatMap(List::stream).map(Reply::device).collect(Collectors.toSet());
            assertEquals(Set.of(0, 1), devices, "both devices generated");
            for (List<Reply> conversation : replies) {
                assertEquals(conversation.get(0).device(), conversation.get(1).device(), "a conversation sticks to its device");
            }
        }
    }
}
