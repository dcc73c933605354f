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
 * A dense retriever plus a lexical one, in one vector: {@code [sqrt(1 - w) * dense ; sqrt(w) * lexical]}, both halves
 * L2-normalised, so the inner product of two such vectors is {@code (1 - w) * cos(dense) + w * cos(lexical)} and the
 * memory bank's exact inner-product search (MemLong's) ranks by the blend without knowing it is one.
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
 * {@link #LEXICAL_DIMENSION} buckets, presence only (a chunk that repeats a word, as an acknowledgement repeats a fact,
 * does not outweigh one that says it once). Single terms only break ties between texts that share no pair (a
 * one-word query): counted as much as pairs (until session 11), they let a chunk dense with other people's facts,
 * which shares the asked person or attribute word by word, outrank the chunk that says the fact amid small talk,
 * whose other words dilute the cosine; that was every miss of {@code memlong bench recall} at 64k and 256k tokens
 * (the answering chunk ranked second), and pairs alone put it first. The stop words are Lucene's English set plus pronouns, question words, auxiliaries and the request verbs of
 * chat ("tell", "remind", "remember"), which every question and every acknowledgement carries. "my" and "your" are
 * kept as one term, {@code my}, that only enters pairs: the user's "my job" and the assistant's "your job" name the
 * same thing, and "my job" differs from "my sister's job". A text with no feature sets a bucket of its own (so every
 * vector stays a unit vector, and two such texts agree lexically). Thread-safe, as Lucene's analyzers are.
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

    /** Buckets of the lexical half: 1,280 floats a chunk, few collisions for a chunk's 20-60 features. */
    public static final int LEXICAL_DIMENSION = 1280;

    /**
     * A single term's weight in the lexical half, a pair's being 1. The half's length changed with this scheme (1,024
     * buckets until session 11), so that a bank embedded the old way is refused by the storage layout check instead
     * of being searched with vectors that no longer compare.
     */
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

    /** The bucket of a text without features; features hash into the others. */
    static final int NO_CONTENT_BUCKET = LEXICAL_DIMENSION - 1;

    /** The lexical half of a text: its distinct features' buckets (pairs 1, terms {@link #TERM_WEIGHT}), L2-normalised. */
    float[] lexical(String text) {
        float[] v = new float[LEXICAL_DIMENSION];
        for (String feature : features(text)) {
            int bucket = bucket(feature);
            v[bucket] = Math.max(v[bucket], weight(feature));
        }
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        if (norm == 0) {
            v[NO_CONTENT_BUCKET] = 1;
        } else {
            float inv = (float) (1 / Math.sqrt(norm));
            for (int j = 0; j < v.length; j++) {
                v[j] *= inv;
            }
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

    /** String.hashCode is specified by the JLS, so buckets are the same on every JVM; the mix spreads short words. */
    static int bucket(String term) {
        int h = term.hashCode() * 0x9E3779B9;
        return Math.floorMod(h ^ (h >>> 16), NO_CONTENT_BUCKET);
    }

    @Override
    public int dimension() {
        return dense.dimension() + LEXICAL_DIMENSION;
    }

    /** The dense retriever's id and every constant of the lexical half: a change to any of them changes vectors. */
    @Override
    public String id() {
        return dense.id() + "+words(weight=" + lexicalWeight + ",buckets=" + LEXICAL_DIMENSION + ",term=" + TERM_WEIGHT
                + ",pairs)";
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
