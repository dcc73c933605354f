package dev.memlong.runtime.retriever;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.NewChunk;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class HybridRetrieverTest {

    private static HybridRetriever hybrid;
    private static OnnxBertRetriever bge;

    @BeforeAll
    static void load() {
        hybrid = new HybridRetriever(BgeSmallRetriever.create(), 0.5);
        bge = BgeSmallRetriever.create();
    }

    @AfterAll
    static void close() {
        hybrid.close();
        bge.close();
    }

    @Test
    void contentTermsAreEnglishStemsWithoutStopWordsOrPossessives() {
        // Porter stems by hand: city -> citi, numbers stay; my/'s/is/what are stop words or possessives
        assertEquals(List.of("sister", "citi", "lisbon"), hybrid.terms("My sister's city is Lisbon."));
        assertEquals(List.of("sister", "citi"), hybrid.terms("What is my sister's city?"));
        assertEquals(List.of("brother", "lucki", "number", "42"),
                hybrid.terms("Do you remember my brother's lucky number? It is 42, my brother said."));
        assertEquals(List.of(), hybrid.terms("can you tell me what it is?"));
        // features add neighbouring pairs; "your" is the user's "my"
        assertEquals(List.of("sister", "citi", "lisbon", "my sister", "sister citi", "citi lisbon"),
                hybrid.features("My sister's city is Lisbon."));
        assertEquals(List.of("job", "carpent", "my job", "job carpent"), hybrid.features("okay, your job is carpenter."));
        assertEquals(List.of(), hybrid.features("can you tell me what it is?"));
    }

    @Test
    void pairsPreferTheSentenceThatSaysItOverOneWithTheSameWordsApart() {
        String query = "what is my neighbor's favorite color?";
        String says = "by the way, my neighbor's favorite color is brown. okay, your neighbor's favorite color is brown.";
        String apart = "i will remember that your partner's favorite color is orange. by the way, my neighbor's city is rome.";
        float[][] v = hybrid.embed(List.of(query, says, apart));
        assertTrue(dot(v[0], v[1]) > dot(v[0], v[2]), dot(v[0], v[1]) + " vs " + dot(v[0], v[2]));
        String own = "what is my job?";
        String mine = "a fact for you: my job is carpenter. noted, your job is carpenter.";
        String sisters = "please note that my sister's job is librarian. noted, your sister's job is librarian.";
        v = hybrid.embed(List.of(own, mine, sisters));
        assertTrue(dot(v[0], v[1]) > dot(v[0], v[2]), dot(v[0], v[1]) + " vs " + dot(v[0], v[2]));
    }

    @Test
    void innerProductIsTheWeightedBlendOfDenseAndWordOverlap() {
        String[][] pairs = {
            {"what is my sister's city?", "please note that my sister's city is lisbon. okay."},
            {"what is my sister's city?", "my brother's city is paris."},
            {"tell me about the weather", "my sister's dog is rex."},
            {"can you tell me what it is?", "it is what it is."},
        };
        for (String[] p : pairs) {
            float[][] h = hybrid.embed(List.of(p[0], p[1]));
            float[][] d = bge.embed(List.of(p[0], p[1]));
            Set<String> a = new HashSet<>(hybrid.features(p[0]));
            Set<String> b = new HashSet<>(hybrid.features(p[1]));
            // distinct terms land in distinct buckets for these few words
            Set<Integer> buckets = new HashSet<>();
            Set<String> all = new HashSet<>(a);
            all.addAll(b);
            all.forEach(t -> {
                for (int bucket : HybridRetriever.buckets(t)) {
                    buckets.add(bucket);
                }
            });
            assertEquals(HybridRetriever.HASHES * all.size(), buckets.size(), "a hash collision among " + all);
            Set<String> shared = new HashSet<>(a);
            shared.retainAll(b);
            // shared features counted (pairs 1, single terms TERM_WEIGHT, squared: both sides carry the weight), over 2
            double lexical = squares(shared) / 2;
            double want = 0.5 * dot(d[0], d[1]) + 0.5 * lexical;
            assertEquals(want, dot(h[0], h[1]), 1e-5, String.join(" | ", p));
            assertEquals(0.5 + 0.5 * squares(a) / 2, dot(h[0], h[0]), 1e-5, "a text with itself shares all it has");
        }
        assertEquals(BgeSmallRetriever.DIMENSION + HybridRetriever.LEXICAL_DIMENSION, hybrid.dimension());
    }

    /**
     * The reason for the lexical half: 1,000 chunks each stating a fact (four facts a person, ten attributes), and
     * each fact's question. bge-small alone puts the answering chunk first for fewer questions than the blend, which
     * rewards sharing both the person's name and the attribute.
     */
    @Test
    void blendRanksTheAnsweringChunkFirstMoreOftenThanTheSentenceEmbedderAlone() {
        List<SyntheticFacts.Fact> facts = SyntheticFacts.generate(1000);
        int hybridFirst = firstHits(hybrid, facts);
        int bgeFirst = firstHits(bge, facts);
        System.out.printf("answering chunk ranked first: hybrid %d / 1000, bge-small alone %d / 1000%n",
                hybridFirst, bgeFirst);
        assertTrue(hybridFirst >= 950, hybridFirst + " of 1000 first with the blend");
        assertTrue(hybridFirst > bgeFirst, hybridFirst + " vs " + bgeFirst);
    }

    /**
     * Why the word half counts shared features instead of taking their cosine: with each fact amid four filler
     * sentences a side (~110 tokens, the runtime's default chunk of 128), a cosine divides by the chunk's own feature
     * count, so the answering chunk fell behind shorter ones that share fewer of the asked words (950 of 1,000 first
     * with the cosine, measured in session 12); counted, for 978; counted over two signed buckets a feature, 993;
     * with each bucket clamped to one feature's worth, 996.
     */
    @Test
    void longChunksRankTheAnsweringChunkFirst() {
        List<SyntheticFacts.Fact> facts = SyntheticFacts.generate(1000);
        java.util.Random rnd = new java.util.Random(1);
        String[] filler = {"The weather was mild that afternoon.", "Nobody at the meeting had expected the delay.",
            "The train arrived a few minutes early.", "There was a long queue outside the bakery.",
            "The report was filed on a Tuesday.", "Several people were talking about the news.",
            "The garden needed watering again.", "It had been a quiet week at the office.",
            "Someone left the window open overnight.", "The library closes early on Fridays.",
            "Coffee was served in the hall after the talk.", "The bus route changed last spring.",
            "Maria said the concert was sold out.", "The printer on the third floor jammed twice.",
            "We talked about moving the picnic to Sunday."};
        List<SyntheticFacts.Fact> padded = new ArrayList<>();
        for (SyntheticFacts.Fact f : facts) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 4; i++) {
                sb.append(filler[rnd.nextInt(filler.length)]).append(' ');
            }
            sb.append(f.chunkText());
            for (int i = 0; i < 4; i++) {
                sb.append(' ').append(filler[rnd.nextInt(filler.length)]);
            }
            padded.add(new SyntheticFacts.Fact(sb.toString(), f.question()));
        }
        int first = firstHits(hybrid, padded);
        System.out.printf("long chunks: answering chunk ranked first for %d / 1000%n", first);
        assertTrue(first >= 970, first + " of 1000 first with ~110-token chunks");
    }

    /**
     * The id a bank records names every setting that changes the vectors: another lexical weight, or another dense
     * model of the same dimension, gives another id (and so a bank embedded one way is refused the other way).
     */
    @Test
    void idChangesWithEverySettingThatChangesTheVectors() {
        String bge = hybrid.id();
        assertTrue(bge.startsWith("bge-small-en-v1.5-q/"), bge);
        assertTrue(bge.contains("weight=0.5"), bge);
        try (HybridRetriever a = new HybridRetriever(new HashingRetriever(384), 0.5);
             HybridRetriever b = new HybridRetriever(new HashingRetriever(384), 0.7);
             HybridRetriever c = new HybridRetriever(new HashingRetriever(384), 0.5)) {
            assertEquals(hybrid.dimension(), a.dimension(), "same dimension as bge-small's blend");
            assertNotEquals(bge, a.id(), "another dense model");
            assertNotEquals(a.id(), b.id(), "another lexical weight");
            assertEquals(a.id(), c.id(), "the same settings, the same id");
        }
    }

    @Test
    void weightOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new HybridRetriever(new HashingRetriever(), -0.1));
        assertThrows(IllegalArgumentException.class, () -> new HybridRetriever(new HashingRetriever(), 1.5));
        assertThrows(IllegalArgumentException.class, () -> new HybridRetriever(new HashingRetriever(), Double.NaN));
    }

    private static double squares(Set<String> features) {
        return features.stream().mapToDouble(f -> Math.pow(HybridRetriever.weight(f), 2)).sum();
    }

    private static int firstHits(Retriever r, List<SyntheticFacts.Fact> facts) {
        List<String> texts = new ArrayList<>();
        facts.forEach(f -> texts.add(f.chunkText()));
        facts.forEach(f -> texts.add(f.question()));
        float[][] v = r.embed(texts);
        KvLayout layout = new KvLayout(1, 1, KvDType.FP16, r.dimension());
        int hits = 0;
        try (MemoryBank bank = new InMemoryMemoryBank(layout, 1_000_000, EvictionPolicy.FREQUENCY)) {
            List<Long> seqs = new ArrayList<>();
            for (int i = 0; i < facts.size(); i++) {
                seqs.add(bank.append(new NewChunk(new int[] {i}, texts.get(i), v[i], new byte[2], new byte[2])));
            }
            for (int i = 0; i < facts.size(); i++) {
                if (bank.topK(v[facts.size() + i], 1).get(0).seq() == seqs.get(i)) {
                    hits++;
                }
            }
        }
        return hits;
    }

    private static float dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
