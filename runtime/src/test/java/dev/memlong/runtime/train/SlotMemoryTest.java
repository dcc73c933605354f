package dev.memlong.runtime.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Training retrieval: a chat segment's exchanges each read the chunks their user turn retrieves (as a reply reads
 * what its input retrieved at inference); text without chat markers reads per chunk-sized piece.
 */
class SlotMemoryTest {

    private static final int CHUNK = 8;
    private static final int TOPIC_A = 10;
    private static final int TOPIC_B = 20;
    private static final int SMALL_TALK = 5;

    private static final int USER = 1;
    private static final int ASSISTANT = 2;

    /** Token id {@code n} is the word {@code wn}; with chat markers, 1 and 2 are {@code <|user|>}, {@code <|assistant|>}. */
    private static TextTokenizer words(boolean chat) {
        return new TextTokenizer() {
        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            return Arrays.stream(text.split(" ")).mapToInt(w -> Integer.parseInt(w.substring(1))).toArray();
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return Arrays.stream(ids).filter(i -> !(chat && skipSpecialTokens && (i == USER || i == ASSISTANT)))
                    .mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
        }

        @Override
        public OptionalInt tokenId(String token) {
            return !chat ? OptionalInt.empty()
                    : token.equals("<|user|>") ? OptionalInt.of(USER)
                    : token.equals("<|assistant|>") ? OptionalInt.of(ASSISTANT) : OptionalInt.empty();
        }

        @Override
        public int vocabSize() {
            return 100;
        }

        @Override
        public OptionalInt bosTokenId() {
            return OptionalInt.empty();
        }

        @Override
        public List<Integer> eosTokenIds() {
            return List.of();
        }

        @Override
        public void close() {}
        };
    }

    /** Embeds which of topic A, topic B or neither a text mentions (A wins a tie). */
    private static final Retriever TOPICS = new Retriever() {
        @Override
        public float[][] embed(List<String> texts) {
            return texts.stream().map(t -> {
                List<String> words = List.of(t.split(" "));
                if (words.contains("w" + TOPIC_A)) {
                    return new float[] {1, 0, 0};
                }
                return words.contains("w" + TOPIC_B) ? new float[] {0, 1, 0} : new float[] {0, 0, 1};
            }).toArray(float[][]::new);
        }

        @Override
        public String id() {
            return "topics/3";
        }

        @Override
        public int dimension() {
            return 3;
        }

        @Override
        public void close() {}
    };

    private static int[] repeat(int id, int n) {
        int[] ids = new int[n];
        Arrays.fill(ids, id);
        return ids;
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    /** Keys and values of one chunk with one K/V head of size 2: every float {@code value}. */
    private static float[] filled(float value) {
        float[] kv = new float[CHUNK * 2];
        Arrays.fill(kv, value);
        return kv;
    }

    private static SlotMemory memoryWithTwoFacts(boolean chat) {
        MemorySettings settings = new MemorySettings(0, List.of(0, 1), CHUNK, 1, 4 * CHUNK, 100_000,
                EvictionPolicy.FIFO, KvDType.FP32);
        SlotMemory memory = new SlotMemory(settings, TOPICS, words(chat), 1, 2);
        int[] facts = concat(repeat(TOPIC_A, CHUNK), repeat(TOPIC_B, CHUNK));
        SlotMemory.Retrieved none = memory.retrieve(facts);
        assertEquals(0, none.keys()[0].length, "nothing is stored yet");
        memory.store(facts, concat2(filled(1), filled(2)), concat2(filled(-1), filled(-2)));
        return memory;
    }

    @Test
    void withoutChatMarkersEachChunkSizedPieceReadsWhatItAndThePieceBeforeRetrieve() {
        try (SlotMemory memory = memoryWithTwoFacts(false)) {
            // piece 0 asks about B; piece 1 is small talk after it (its query still holds B); piece 2 asks about A
            SlotMemory.Retrieved r = memory.retrieve(concat(repeat(TOPIC_B, CHUNK), repeat(SMALL_TALK, CHUNK),
                    repeat(TOPIC_A, CHUNK)));
            assertArrayEquals(new int[] {0, CHUNK, 2 * CHUNK}, r.starts());
            assertArrayEquals(filled(2), r.keys()[0]);
            assertArrayEquals(filled(-2), r.values()[0]);
            assertArrayEquals(filled(2), r.keys()[1]);
            assertArrayEquals(filled(1), r.keys()[2]);
            assertArrayEquals(filled(-1), r.values()[2]);

            // the next segment's first query starts with the last piece (topic A)
            assertArrayEquals(filled(1), memory.retrieve(repeat(SMALL_TALK, CHUNK)).keys()[0]);
            assertArrayEquals(filled(2), memory.retrieve(repeat(TOPIC_B, CHUNK)).keys()[0]);

            memory.clear();
            assertEquals(0, memory.retrieve(repeat(TOPIC_A, CHUNK)).keys()[0].length, "a new document has no memory");
        }
    }

    @Test
    void inChatEachExchangeReadsWhatItsUserTurnRetrievesNotWhatTheReplySays() {
        try (SlotMemory memory = memoryWithTwoFacts(true)) {
            int a = TOPIC_A;
            int b = TOPIC_B;
            int t = SMALL_TALK;
            // the end of an exchange from before, then: user asks B, assistant says A; user asks A, assistant says B
            SlotMemory.Retrieved r = memory.retrieve(new int[] {t, t, t, USER, b, b, ASSISTANT, a, a, a, USER, a, ASSISTANT, b, b});
            assertArrayEquals(new int[] {0, 3, 10}, r.starts());
            assertArrayEquals(filled(2), r.keys()[1], "the question about B retrieves B, whatever the reply says");
            assertArrayEquals(filled(1), r.keys()[2]);
            assertArrayEquals(filled(-1), r.values()[2]);

            // the next segment continues the exchange about A; then a user turn is cut by the segment's end
            r = memory.retrieve(new int[] {b, b, USER, t, t});
            assertArrayEquals(new int[] {0, 2}, r.starts());
            assertArrayEquals(filled(1), r.keys()[0], "the continued exchange keeps its question's chunks");
            // ... and its query is completed in the next segment
            r = memory.retrieve(new int[] {a, ASSISTANT, b});
            assertArrayEquals(new int[] {0}, r.starts());
            assertArrayEquals(filled(1), r.keys()[0]);

            memory.clear();
            r = memory.retrieve(new int[] {b, b, USER, a, ASSISTANT});
            assertEquals(0, r.keys()[0].length, "a new document has no memory");
        }
    }

    @Test
    void withNextChunksAHitIsReadWithTheChunkStoredAfterIt() {
        MemorySettings settings = new MemorySettings(0, List.of(0, 1), CHUNK, 1, 4 * CHUNK, 100_000,
                EvictionPolicy.FIFO, KvDType.FP32, 1);
        try (SlotMemory memory = new SlotMemory(settings, TOPICS, words(false), 1, 2)) {
            int[] facts = concat(repeat(TOPIC_A, CHUNK), repeat(TOPIC_B, CHUNK));
            memory.retrieve(facts);
            memory.store(facts, concat2(filled(1), filled(2)), concat2(filled(-1), filled(-2)));
            SlotMemory.Retrieved r = memory.retrieve(repeat(TOPIC_A, CHUNK));
            assertArrayEquals(concat2(filled(1), filled(2)), r.keys()[0], "A, then B that followed it");
            assertArrayEquals(concat2(filled(-1), filled(-2)), r.values()[0]);
            memory.retrieve(repeat(TOPIC_B, CHUNK)); // its query still holds the piece about A
            r = memory.retrieve(repeat(TOPIC_B, CHUNK));
            assertArrayEquals(filled(2), r.keys()[0], "B is the newest chunk: nothing follows it");
        }
    }

    private static float[] concat2(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
