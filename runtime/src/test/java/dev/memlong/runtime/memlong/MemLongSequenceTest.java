package dev.memlong.runtime.memlong;

import dev.memlong.runtime.retriever.HashingRetriever;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.MemLongLayers;
import dev.memlong.runtime.testing.Fixtures;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Window overflow, retrieval schedule and native memory of a MemLong sequence (chunk 8, window 32). */
class MemLongSequenceTest {

    private static final int CHUNK = 8;
    private static final int WINDOW = 32;
    private static LlamaModel model;
    private static TextTokenizer tokenizer;
    private static MemorySettings settings;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(Fixtures.hfTinyLlama());
        tokenizer = Tokenizers.open(Fixtures.hfTinyLlama());
        settings = new MemorySettings(2, List.of(2, 3), CHUNK, 2, WINDOW, 1_000_000, EvictionPolicy.FREQUENCY, KvDType.FP32);
    }

    @AfterAll
    static void close() {
        tokenizer.close();
        model.close();
    }

    private static InMemoryMemoryBank bank() {
        return new InMemoryMemoryBank(new KvLayout(model.config().numKvHeads(), model.config().headDim(), KvDType.FP32,
                HashingRetriever.DEFAULT_DIMENSION), settings.capacityTokens(), settings.eviction());
    }

    private static KvCachePool cache(int slots) {
        return model.newCache(slots, WINDOW, new MemLongLayers(settings.memoryLayer(),
                settings.retrievalLayers().stream().mapToInt(Integer::intValue).toArray()));
    }

    private static int[] text(int n, int seed) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = 7 + (seed * 31 + i * 17) % 590;
        }
        return ids;
    }

    @Test
    void overflowMovesExactlyTheOldestHalfAsWholeChunks() {
        HashingRetriever retriever = new HashingRetriever();
        int[] ids = text(40, 1);
        try (KvCachePool cache = cache(1); InMemoryMemoryBank bank = bank();
             MemLongSequence seq = new MemLongSequence(model, cache, 0, bank, retriever, tokenizer, settings)) {
            seq.feed(Arrays.copyOf(ids, 32), true, false, null);
            assertEquals(0, bank.chunkCount(), "a full window has not overflowed yet");
            assertEquals(32, seq.windowTokens());
            seq.feed(Arrays.copyOfRange(ids, 32, 40), false, false, null);
            assertEquals(2, bank.chunkCount(), "the oldest half (16 tokens) as two chunks of 8");
            assertEquals(24, seq.windowTokens());
            List<MemoryChunk> chunks = bank.fetch(bank.seqs());
            for (int c = 0; c < 2; c++) {
                int[] expected = Arrays.copyOfRange(ids, c * CHUNK, (c + 1) * CHUNK);
                assertArrayEquals(expected, chunks.get(c).tokenIds());
                assertEquals(tokenizer.decode(expected, true), chunks.get(c).text());
                assertEquals(CHUNK * model.config().numKvHeads() * model.config().headDim() * 4, chunks.get(c).keys().length);
            }
        }
    }

    @Test
    void retrievalRunsAtEachInputAndChunkBoundaryAndNeverSeesTheWindow() {
        HashingRetriever retriever = new HashingRetriever();
        List<Retrieval> log = new ArrayList<>();
        try (KvCachePool cache = cache(1); InMemoryMemoryBank bank = bank();
             MemLongSequence seq = new MemLongSequence(model, cache, 0, bank, retriever, tokenizer, settings)) {
            seq.onRetrieval(log::add);
            seq.feed(text(48, 2), true, false, null);               // overflows once: 2 chunks in memory
            assertEquals(2, bank.chunkCount());
            int before = log.size();
            seq.feed(new int[] {11, 12, 13}, true, false, null);    // a new input retrieves at once
            assertEquals(before + 1, log.size());
            // decode one token at a time: the next retrieval comes exactly at the next chunk boundary
            int boundaryIn = CHUNK - seq.windowTokens() % CHUNK;
            for (int i = 0; i < boundaryIn; i++) {
                assertEquals(before + 1, log.size());
                seq.feed(new int[] {20 + i}, false, false, null);
            }
            assertEquals(before + 1, log.size(), "the window now ends on a chunk boundary");
            seq.feed(new int[] {30}, false, false, null);
            assertEquals(before + 2, log.size(), "the first token of a new chunk retrieves");
            for (Retrieval r : log) {
                assertTrue(r.chunks().size() <= settings.topK());
                long[] seqs = r.chunks().stream().mapToLong(Retrieval.RetrievedChunk::seq).toArray();
                long[] sorted = seqs.clone();
                Arrays.sort(sorted);
                assertArrayEquals(sorted, seqs, "chunks in chronological order");
            }
            assertTrue(seq.memory() != null && seq.memory().tokens() == 2 * CHUNK);
        }
    }

    @Test
    void eachHitIsReadWithTheChunksThatFollowedIt() {
        HashingRetriever retriever = new HashingRetriever();
        MemorySettings top1next1 = new MemorySettings(2, List.of(2, 3), CHUNK, 1, WINDOW, 1_000_000,
                EvictionPolicy.FREQUENCY, KvDType.FP32, 1);
        List<List<Long>> read = new ArrayList<>();
        List<List<Long>> expected = new ArrayList<>();
        try (KvCachePool cache = cache(1); InMemoryMemoryBank bank = bank();
             MemLongSequence seq = new MemLongSequence(model, cache, 0, bank, retriever, tokenizer, top1next1)) {
            seq.onRetrieval(r -> { // the bank as it is at this retrieval: the top chunk, and the one stored after it
                long hit = bank.topK(retriever.embed(r.query()), 1).get(0).seq();
                long newest = bank.seqs().get(bank.seqs().size() - 1);
                expected.add(hit < newest ? List.of(hit, hit + 1) : List.of(hit));
                read.add(r.chunks().stream().map(Retrieval.RetrievedChunk::seq).toList());
            });
            seq.feed(text(96, 4), true, false, null);
            assertTrue(bank.chunkCount() >= 6, "chunks in memory: " + bank.chunkCount());
            for (int input = 0; input < 12; input++) {
                seq.feed(text(9, 100 + input), true, false, null);
                List<Long> last = read.get(read.size() - 1);
                assertEquals(last.size() * CHUNK, seq.memory().tokens());
            }
            assertEquals(expected, read);
            long followed = expected.stream().filter(e -> e.size() == 2).count();
            assertTrue(followed > 0, "some hit had a chunk after it");
        }
    }

    @Test
    void thousandStepsThatRetrieveAndWriteMemoryDoNotGrowNativeMemory() {
        HashingRetriever retriever = new HashingRetriever();
        try (KvCachePool cache = cache(1); InMemoryMemoryBank bank = bank();
             MemLongSequence seq = new MemLongSequence(model, cache, 0, bank, retriever, tokenizer, settings)) {
            seq.feed(text(20, 3), true, false, null);
            int live = -1;
            for (int step = 0; step < 1000; step++) {
                seq.feed(new int[] {7 + step % 500}, false, false, null);
                if (step == 99) {
                    live = model.liveArrays();
                }
                if (step > 99 && step % 100 == 99) {
                    // the same count at the same phase of the window cycle (16 steps per overflow, 8 per retrieval)
                    assertEquals(live, model.liveArrays(), "live arrays at step " + step);
                }
            }
            assertTrue(bank.chunkCount() > 100, "memory was written: " + bank.chunkCount());
        }
    }

    /**
     * A window saved (ids and cache rows) after it has shifted twice and put back into a fresh cache continues
     * exactly: the same logits, bit for bit, as its twin that was never saved, through further overflow.
     */
    @Test
    void aRestoredWindowContinuesExactlyAsItsTwin() {
        HashingRetriever retriever = new HashingRetriever();
        int[] history = text(60, 3);
        try (KvCachePool twinCache = cache(1); InMemoryMemoryBank twinBank = bank();
             MemLongSequence twin = new MemLongSequence(model, twinCache, 0, twinBank, retriever, tokenizer, settings);
             KvCachePool savedCache = cache(1); InMemoryMemoryBank bank = bank()) {
            int[] ids;
            byte[] rows;
            try (MemLongSequence saved = new MemLongSequence(model, savedCache, 0, bank, retriever, tokenizer,
                    settings)) {
                twin.feed(history, true, false, null);
                saved.feed(history, true, false, null);
                ids = saved.windowIds();
                rows = saved.windowRows();
            }
            assertTrue(bank.chunkCount() > 0, "the history overflowed into memory");
            try (KvCachePool freshCache = cache(2);
                 MemLongSequence restored = new MemLongSequence(model, freshCache, 0, bank, retriever, tokenizer,
                         settings)) {
                restored.restoreWindow(ids, rows);
                assertArrayEquals(twin.windowIds(), restored.windowIds());
                int[] input = text(5, 9);
                float[] a = twin.feed(input, true, false, null);
                float[] b = restored.feed(input, true, false, null);
                assertArrayEquals(a, b, "next-token logits after the restored window");
                for (int step = 0; step < 24; step++) {
                    int next = argmax(a);
                    a = twin.feed(new int[] {next}, false, false, null);
                    b = restored.feed(new int[] {next}, false, false, null);
                    assertArrayEquals(a, b, "logits of decode step " + step);
                }
                assertEquals(twinBank.chunkCount(), bank.chunkCount(), "both overflowed alike");
            }
        }
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /** {@code textsToEmbed} names exactly the texts {@code prepare} then embeds, through inputs, decode and overflow. */
    @Test
    void textsToEmbedAreWhatPrepareEmbeds() {
        HashingRetriever hashing = new HashingRetriever();
        List<String> embedded = new ArrayList<>();
        dev.memlong.runtime.retriever.Retriever recording = new dev.memlong.runtime.retriever.Retriever() {
            @Override
            public float[][] embed(List<String> texts) {
                embedded.addAll(texts);
                return hashing.embed(texts);
            }

            @Override
            public String id() {
                return hashing.id();
            }

            @Override
            public int dimension() {
                return hashing.dimension();
            }

            @Override
            public void close() { }
        };
        int[] ids = text(140, 5);
        List<String> queries = new ArrayList<>();
        int nonEmpty = 0;
        try (KvCachePool cache = cache(1); InMemoryMemoryBank bank = bank();
             MemLongSequence seq = new MemLongSequence(model, cache, 0, bank, recording, tokenizer, settings)) {
            seq.onRetrieval(r -> queries.add(r.query()));
            int done = 0;
            int input = 0;
            while (done < ids.length) {
                boolean newInput = done % 37 == 0 || input++ % 9 == 0;
                if (newInput) {
                    seq.beginInput();
                }
                int n = seq.nextPieceLength(Math.min(done % 3 == 0 ? 1 : 5, ids.length - done));
                int[] piece = Arrays.copyOfRange(ids, done, done + n);
                List<String> expected = seq.textsToEmbed(piece);
                EmbeddingPlan plan = seq.embeddingPlan(piece);
                embedded.clear();
                queries.clear();
                seq.feed(piece, false, false, null);
                assertEquals(expected, embedded, "piece at " + done);
                assertEquals(plan.query() == null ? List.of() : List.of(plan.query()), queries,
                        "the query the plan names is the one retrieval used, piece at " + done);
                nonEmpty += expected.isEmpty() ? 0 : 1;
                done += n;
            }
        }
        assertTrue(nonEmpty > 5, "overflow and retrieval happened: " + nonEmpty);
    }
}
