package dev.memlong.runtime.retriever;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

/**
 * A dense retriever plus a lexical one, in one vector: {@code [sqrt(1 - w) * dense ; sqrt(w) * lexical]}, the dense
 * half L2-normalised and the lexical half each feature's weight over {@code sqrt(2)}, so the inner product of two
 * such vectors is {@code (1 - w) * cos(dense) + w * shared / 2}, {@code shared} counting the features both texts have
 * (pairs 1, single terms {@value #TERM_WEIGHT}), and the memory bank's exact inner-product search (MemLong's) ranks by
 * the blend without knowing it is one. A two-pair question ("what is my sister's city?") that a chunk fully contains
 * scores 1 on the lexical half, as an identical text would on the dense one.
 *
 * <p>Why a count, not a cosine (until session 12 the lexical half was L2-normalised too): the cosine divides by the
 * square root of the chunk's own feature count, so a chunk that says the asked fact amid other talk loses to a short
 * one that shares fewer of the asked words, and the longer the chunks the more the word half fades: on 1,000 facts
 * each amid 4 filler sentences a side (~110 tokens, the runtime's default chunk of 128), the answering chunk came
 * first for 950 questions with the cosine, 978 with the count, 993 with the count over two signed buckets a feature
 * ({@link #HASHES}) and 996 with each bucket clamped to one feature's worth (bge-small alone 516); with one filler
 * sentence a side (~30 tokens, the demo model's chunks) 993, 997, 999 and 999. Normalising by the question's feature count instead (the share of its features a chunk holds) ranked
 * like the count but would embed questions differently from chunks; the count keeps one embedding for both.
 *
 * <p>Why: a sentence embedder blurs exactly what a conversation's memory is asked for. bge-small scores "my brother's
 * city is paris." about as close to "what is my sister's city?" as the sentence that answers it, so with one chunk
 * retrieved the answer's chunk came first for only 0.68-0.80 of {@code memlong bench recall}'s questions. The lexical
 * half rewards sharing the rare words (a person, a name, a code) and costs nothing to compute.
 *
 * <p>The lexical half: Lucene's English analysis (standard tokenizer, possessives stripped, lower case, stop words,
 * Porter stems) gives a text's terms; its features are the distinct pairs of neighbouring terms (so "my neighbor's
 * favorite color" matches a sentence that says exactly that better than one with "your partner's favorite color ...
 * my neighbor's city") and, weighing {@value #TERM_WEIGHT} of a pair, the distinct content terms, each hashed into
 * {@link #HASHES} of {@link #LEXICAL_DIMENSION} signed buckets, presence only (a chunk that repeats a word, as an acknowledgement repeats a fact,
 * does not outweigh one that says it once). Single terms only break ties between texts that share no pair (a
 * one-word query): counted as much as pairs (until session 11), they let a chunk dense with other people's facts,
 * which shares the asked person or attribute word by word, outrank the chunk that says the fact amid small talk,
 * whose other words dilute the cosine; that was every miss of {@code memlong bench recall} at 64k and 256k tokens
 * (the answering chunk ranked second), and pairs alone put it first. The stop words are Lucene's English set plus pronouns, question words, auxiliaries and the request verbs of
 * chat ("tell", "remind", "remember"), which every question and every acknowledgement carries. "my" and "your" are
 * kept as one term, {@code my}, that only enters pairs: the user's "my job" and the assistant's "your job" name the
 * same thing, and "my job" differs from "my sister's job". A text with no feature has an all-zero lexical half.
 * Vectors are not unit vectors (the lexical half's length grows with a text's features); only their inner products
 * mean anything. Thread-safe, as Lucene's analyzers are.
 */
public final class HybridRetriever implements Retriever {

    /** The default share of the lexical half (runtime reference.conf's {@code memlong.retriever.lexical-weight}). */
    public static final double DEFAULT_LEXICAL_WEIGHT = 0.5;

    /** The runtime's default retriever: bundled bge-small-en-v1.5 blended with {@link #DEFAULT_LEXICAL_WEIGHT}. */
    public static HybridRetriever standard() {
        return new HybridRetriever(BgeSmallRetriever.create(), DEFAULT_LEXICAL_WEIGHT);
    }

    /** {@code dense} blended with word overlap at {@code lexicalWeight}, or {@code dense} itself at weight 0. */
    public static Retriever blend(Retriever dense, double lexicalWeight) {
        return lexicalWeight == 0 ? dense : new HybridRetriever(dense, lexicalWeight);
    }

    /**
     * Buckets of the lexical half: 1,536 floats a chunk, few collisions for a chunk's 20-100 features. (1,024 in
     * session 10's scheme, 1,280 in session 11's: a bank embedded another way has another vector length, so even one
     * written before banks recorded their retriever's {@link #id} is refused instead of searched with vectors that no
     * longer compare.)
     */
    public static final int LEXICAL_DIMENSION = 1536;

    /** The lexical half's scale: a feature's weight over {@code sqrt(2)}, so that two shared pairs score 1. */
    static final float FEATURE_SCALE = (float) (1 / Math.sqrt(2));

    /**
     * Buckets each feature is hashed into, each with a random sign and {@code 1 / sqrt(HASHES)} of its value (feature
     * hashing): a shared feature adds its full weight, a feature of another text that lands in one of its buckets only
     * half of it, with either sign. With one unsigned bucket a feature shares its bucket with about one chunk in a
     * hundred, and over a long conversation's thousands of chunks those all tie with the answering one on a one-pair
     * question ("my job"): at 256k tokens the answering chunk ranked 2nd or 3rd behind such chunks.
     */
    static final int HASHES = 2;

    /** A single term's weight in the lexical half, a pair's being 1. */
    static final float TERM_WEIGHT = 1e-4f;

    /** The possessive pronouns kept as the one term {@value #SPEAKER}: my (the user's) and your (the assistant's). */
    static final String SPEAKER = "my";

    static final List<String> CHAT_STOP_WORDS = List.of("i", "me", "mine", "myself", "you", "yours",
            "we", "us", "our", "he", "him", "his", "she", "her", "hers", "its", "they", "them", "their", "what", "which",
            "who", "whom", "whose", "when", "where", "why", "how", "do", "does", "did", "done", "can", "could", "would",
            "should", "shall", "may", "might", "must", "am", "is", "are", "was", "were", "been", "being", "have", "has",
            "had", "so", "just", "also", "oh", "ok", "okay", "yes", "please", "thanks", "thank", "tell", "remind",
            "remember", "recall", "know", "say", "said", "got", "noted", "note", "from", "about", "all", "any", "some",
            "very", "much", "more", "most", "s");

    private final Retriever dense;
    private final double lexicalWeight;
    private final float denseScale;
    private final float lexicalScale;
    private final Analyzer analyzer;

    /**
     * @param dense         the sentence embedder (owned: closed with this retriever)
     * @param lexicalWeight the lexical half's share of the score, in [0, 1]
     */
    public HybridRetriever(Retriever dense, double lexicalWeight) {
        if (!(lexicalWeight >= 0 && lexicalWeight <= 1)) {
            throw new IllegalArgumentException("lexical weight must be in [0, 1], got " + lexicalWeight);
        }
        this.dense = dense;
        this.lexicalWeight = lexicalWeight;
        this.denseScale = (float) Math.sqrt(1 - lexicalWeight);
        this.lexicalScale = (float) Math.sqrt(lexicalWeight);
        CharArraySet stop = new CharArraySet(EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, false);
        stop.addAll(CHAT_STOP_WORDS);
        this.analyzer = new EnglishAnalyzer(stop);
    }

    public double lexicalWeight() {
        return lexicalWeight;
    }

    @Override
    public float[][] embed(List<String> texts) {
        float[][] d = dense.embed(texts);
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            float[] v = new float[dense.dimension() + LEXICAL_DIMENSION];
            for (int j = 0; j < d[i].length; j++) {
                v[j] = denseScale * d[i][j];
            }
            float[] lexical = lexical(texts.get(i));
            for (int j = 0; j < LEXICAL_DIMENSION; j++) {
                v[d[i].length + j] = lexicalScale * lexical[j];
            }
            out[i] = v;
        }
        return out;
    }

    /**
     * The lexical half of a text: its distinct features' buckets (pairs 1, terms {@link #TERM_WEIGHT}) times
     * {@link #FEATURE_SCALE}; all zero for a text without features (it shares none).
     */
    float[] lexical(String text) {
        float[] v = new float[LEXICAL_DIMENSION];
        float share = (float) (FEATURE_SCALE / Math.sqrt(HASHES));
        for (String feature : features(text)) {
            for (int k = 0; k < HASHES; k++) {
                int h = hash(feature, k);
                v[bucket(h)] += (h >>> 31 == 0 ? 1 : -1) * weight(feature) * share;
            }
        }
        // a bucket holds at most one pair's worth: features of a long chunk that happen to share a bucket would
        // otherwise add up to several pairs' credit for a question that only shares that bucket
        for (int j = 0; j < v.length; j++) {
            v[j] = Math.max(-share, Math.min(share, v[j]));
        }
        return v;
    }

    /** A feature's weight: 1 for a pair of terms, {@link #TERM_WEIGHT} for a single term. */
    static float weight(String feature) {
        return feature.indexOf(' ') >= 0 ? 1f : TERM_WEIGHT;
    }

    /** The distinct content terms of a text, in order (stemmed, stop words and the speaker term removed). */
    List<String> terms(String text) {
        Set<String> out = new LinkedHashSet<>(analyse(text));
        out.remove(SPEAKER);
        return new ArrayList<>(out);
    }

    /** The lexical features of a text: its {@link #terms} and the distinct pairs of neighbouring terms ("a b"). */
    List<String> features(String text) {
        List<String> seq = analyse(text);
        Set<String> out = new LinkedHashSet<>(terms(text));
        for (int i = 0; i + 1 < seq.size(); i++) {
            if (!(seq.get(i).equals(SPEAKER) && seq.get(i + 1).equals(SPEAKER))) {
                out.add(seq.get(i) + " " + seq.get(i + 1));
            }
        }
        return new ArrayList<>(out);
    }

    /** The analysed terms in order, "your" folded into {@value #SPEAKER}. */
    private List<String> analyse(String text) {
        List<String> out = new ArrayList<>();
        try (TokenStream ts = analyzer.tokenStream("", text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) {
                String t = term.toString();
                out.add(t.equals("your") ? SPEAKER : t);
            }
            ts.end();
        } catch (IOException e) {
            throw new UncheckedIOException("analysing a string cannot fail", e);
        }
        return out;
    }

    /**
     * The {@code k}-th hash of a feature: its bucket ({@code floorMod(hash, LEXICAL_DIMENSION)}) and its sign (the top
     * bit). String.hashCode is specified by the JLS, so hashes are the same on every JVM; the mixing (murmur3's
     * finaliser over the string hash and {@code k}) spreads short words and makes the {@code k} hashes independent.
     */
    static int hash(String feature, int k) {
        int h = feature.hashCode() ^ (k * 0x9E3779B9);
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        return h;
    }

    /** The bucket of a hash. */
    private static int bucket(int hash) {
        return Math.floorMod(hash, LEXICAL_DIMENSION);
    }

    /** The buckets of a feature, in hash order. */
    static int[] buckets(String feature) {
        int[] b = new int[HASHES];
        for (int k = 0; k < HASHES; k++) {
            b[k] = bucket(hash(feature, k));
        }
        return b;
    }

    @Override
    public int dimension() {
        return dense.dimension() + LEXICAL_DIMENSION;
    }

    /** The dense retriever's id and every constant of the lexical half: a change to any of them changes vectors. */
    @Override
    public String id() {
        return dense.id() + "+words(weight=" + lexicalWeight + ",buckets=" + LEXICAL_DIMENSION + "x" + HASHES
                + "signed-clamped,term=" + TERM_WEIGHT + ",pairs,count/2)";
    }

    @Override
    public void close() {
        try {
            analyzer.close();
        } finally {
            dense.close();
        }
    }
}
