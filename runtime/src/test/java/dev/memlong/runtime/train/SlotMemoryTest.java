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

/** Training retrieval: each chunk-sized piece of a segment gets its own chunks, queried by it and the piece before. */
class SlotMemoryTest {

    private static final int CHUNK = 8;
    private static final int TOPIC_A = 10;
    private static final int TOPIC_B = 20;
    private static final int SMALL_TALK = 5;

    /** Token id {@code n} is the word {@code wn}. */
    private static final TextTokenizer WORDS = new TextTokenizer() {
        @Override
        public int[] encode(String text, boolean addSpecialTokens) {
            return Arrays.stream(text.split(" ")).mapToInt(w -> Integer.parseInt(w.substring(1))).toArray();
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return Arrays.stream(ids).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
        }

        @Override
        public OptionalInt tokenId(String token) {
            return OptionalInt.empty();
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

    @Test
    void eachPieceReadsTheChunksItsOwnQueryRetrieves() {
        MemorySettings settings = new MemorySettings(0, List.of(0, 1), CHUNK, 1, 4 * CHUNK, 100_000,
                EvictionPolicy.FIFO, KvDType.FP32);
        try (SlotMemory memory = new SlotMemory(settings, TOPICS, WORDS, 1, 2)) {
            int[] facts = concat(repeat(TOPIC_A, CHUNK), repeat(TOPIC_B, CHUNK));
            float[][][] none = memory.retrieve(facts);
            assertEquals(2, none[0].length);
            assertEquals(0, none[0][0].length, "nothing is stored yet");
            memory.store(facts, concat2(filled(1), filled(2)), concat2(filled(-1), filled(-2)));

            // piece 0 asks about B; piece 1 is small talk after it (its query still holds B); piece 2 asks about A
            float[][][] kv = memory.retrieve(concat(repeat(TOPIC_B, CHUNK), repeat(SMALL_TALK, CHUNK), repeat(TOPIC_A, CHUNK)));
            assertArrayEquals(filled(2), kv[0][0]);
            assertArrayEquals(filled(-2), kv[1][0]);
            assertArrayEquals(filled(2), kv[0][1]);
            assertArrayEquals(filled(1), kv[0][2]);
            assertArrayEquals(filled(-1), kv[1][2]);

            // the next segment's first query starts with the last piece (topic A)
            assertArrayEquals(filled(1), memory.retrieve(repeat(SMALL_TALK, CHUNK))[0][0]);
            assertArrayEquals(filled(2), memory.retrieve(repeat(TOPIC_B, CHUNK))[0][0]);

            memory.clear();
            assertEquals(0, memory.retrieve(repeat(TOPIC_A, CHUNK))[0][0].length, "a new document has no memory");
        }
    }

    private static float[] concat2(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
