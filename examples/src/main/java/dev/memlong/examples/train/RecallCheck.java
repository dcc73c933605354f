package dev.memlong.examples.train;

import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.generate.Generation;
import dev.memlong.runtime.generate.SamplingParams;
import dev.memlong.runtime.generate.TokenListener;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.memlong.Retrieval;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Does a model recall what it was told long ago? One long conversation from a seed the training never used: facts
 * (distinct keys, and no two of one attribute with the same value) are stated at chosen distances before its end
 * (each at least {@code d} tokens earlier, planned up to {@code 1.1 d}; where a distance's facts do not fit in
 * {@code 0.1 d} they are stated back to back), with small talk everywhere else. The conversation is read once, with
 * memory, into a bank; then each fact is asked about in a probe that starts from the conversation's last
 * half-window of tokens and the same bank (the probe's few tokens never overflow its window, so the bank is the
 * same for every probe), and the greedy answer must state the fact: owner, attribute and value. The window-only baseline answers from the same last half-window with memory off. Also reported:
 * how often retrieval brought back a chunk holding the fact (an upper bound for the memory accuracy), and the
 * perplexity of a held-out dialogue with and without memory.
 */
public final class RecallCheck {

    /**
     * @param distances        tokens between a fact and its question (each fact lands at least d back)
     * @param factsPerDistance facts asked about per distance
     * @param seed             the conversation's seed (training used others)
     * @param pplRounds        rounds of the held-out dialogue for perplexity (0 = skip)
     * @param showMisses       log every wrong answer with its retrieval query and the chunks retrieved for it
     */
    public record Options(int[] distances, int factsPerDistance, long seed, int pplRounds, boolean showMisses) {
        public Options(int[] distances, int factsPerDistance, long seed, int pplRounds) {
            this(distances, factsPerDistance, seed, pplRounds, false);
        }
    }

    /**
     * One distance's figures.
     *
     * @param retrievalHitRate share of probes whose retrieval brought back a chunk holding the whole fact
     * @param misreadRate      share of probes answered wrongly with a value that the retrieved chunks hold (another
     *                         fact read instead of the asked one), as opposed to a value memory did not offer
     * @param accuracyWhenRetrieved share of right answers among the probes whose fact's chunk was retrieved: how well
     *                         the model reads memory, apart from how well the retriever finds
     * @param ownerMisreadRate share of probes answered wrongly with a value of the asked attribute that the retrieved
     *                         chunks hold: the right kind of value, someone else's (the misreads that binding a value
     *                         to its owner would fix)
     * @param minTokensBack    tokens between the nearest of these facts and the end of the conversation (at least
     *                         {@code distance}), {@code maxTokensBack} the farthest
     */
    public record DistanceResult(int distance, int facts, double accuracyMemory, double accuracyWindowOnly,
                                 double retrievalHitRate, double misreadRate, double accuracyWhenRetrieved,
                                 double ownerMisreadRate, long minTokensBack, long maxTokensBack) {}

    /**
     * @param pplMemory              perplexity of every token of the held-out dialogue, read with memory
     * @param pplAssistantMemory     the same over the assistant's tokens only: what a chat model is trained to say
     *                               (the user's turns are random draws; the demo model reads them as context only)
     */
    public record Result(List<DistanceResult> distances, double pplMemory, double pplWindowOnly,
                         double pplAssistantMemory, double pplAssistantWindowOnly, long historyTokens,
                         double seconds, List<String> samples) {}

    private record Placed(SyntheticDialogues.Fact fact, int distance, long target) {}

    /** The conversation built for a check: its tokens, the facts in stated order and where each starts. */
    private record Layout(SyntheticDialogues gen, List<Placed> placed, long[] statedAt, List<Integer> ids) {}

    /**
     * Builds the conversation from a fresh generator of the check's seed (so every attempt draws the same facts and
     * is deterministic), each fact of a distance stated once at most {@code target + reserve x (facts of its
     * distance stated after it)} tokens before the end; if a fact then lands less than its distance back, null, or
     * with {@code extend} small talk is appended until none does.
     */
    private static Layout layout(TextTokenizer tok, ChatTemplate template, Options o, int[] distances, int reserve,
                                 boolean extend) {
        SyntheticDialogues gen = new SyntheticDialogues(o.seed());
        List<SyntheticDialogues.Fact> facts = gen.distinctFacts(distances.length * o.factsPerDistance());
        List<Placed> placed = new ArrayList<>();
        for (int d = 0; d < distances.length; d++) {
            for (int j = 0; j < o.factsPerDistance(); j++) {
                long planned = distances[d] + (long) distances[d] * j / (10L * o.factsPerDistance());
                long target = Math.max(planned, distances[d] + (long) reserve * j);
                placed.add(new Placed(facts.get(d * o.factsPerDistance() + j), distances[d], target));
            }
        }
        long total = placed.stream().mapToLong(Placed::target).max().orElse(0) + 64;
        // facts in the order they are stated: farthest first
        placed.sort(Comparator.comparingLong(Placed::target).reversed());
        // Built message by message, counting tokens (the template renders each on its own).
        List<Integer> ids = new ArrayList<>();
        long[] statedAt = new long[placed.size()];
        int next = 0;
        while (ids.size() < total || next < placed.size()) {
            List<ChatMessage> exchange;
            if (next < placed.size() && total - ids.size() <= placed.get(next).target()) {
                statedAt[next] = ids.size();
                exchange = gen.statement(placed.get(next++).fact());
            } else {
                exchange = gen.smallTalk();
            }
            for (int id : tok.encode(template.render(exchange, false), false)) {
                ids.add(id);
            }
        }
        for (int i = 0; i < placed.size(); i++) {
            while (ids.size() - statedAt[i] < placed.get(i).distance()) {
                if (!extend) {
                    return null;
                }
                for (int id : tok.encode(template.render(gen.smallTalk(), false), false)) {
                    ids.add(id);
                }
            }
        }
        return new Layout(gen, placed, statedAt, ids);
    }

    private RecallCheck() {}

    private static void logMiss(PrintStream log, SyntheticDialogues.Fact fact, String answer, Retrieval retrieval,
                                String window, MemoryBank bank, Retriever retriever) {
        String answered = answeredValue(answer);
        log.printf(Locale.ROOT, "miss: told \"%s\", answered \"%s\" (%s); query \"%s\"%n", fact.statement(),
                answer.trim(), !answered.isEmpty() && containsWord(window, answered) ? "a value the window holds"
                        : "a value the window does not hold", retrieval == null ? "" : retrieval.query());
        if (retrieval != null) {
            for (Retrieval.RetrievedChunk c : retrieval.chunks()) {
                log.printf(Locale.ROOT, "  retrieved (score %.3f%s): %s%n", c.score(),
                        holdsFact(c.text(), fact) ? ", holds the fact" : "", c.text());
            }
            if (retrieval.chunks().stream().noneMatch(c -> holdsFact(c.text(), fact))) {
                // where the retriever ranked the chunks that do hold it
                List<ScoredChunk> ranked = bank.topK(retriever.embed(retrieval.query()), bank.chunkCount());
                for (int rank = 0; rank < ranked.size(); rank++) {
                    MemoryChunk c = bank.fetch(List.of(ranked.get(rank).seq())).get(0);
                    if (holdsFact(c.text(), fact)) {
                        log.printf(Locale.ROOT, "  holds the fact (rank %d, score %.3f): %s%n", rank + 1,
                                ranked.get(rank).score(), c.text());
                        break;
                    }
                }
            }
        }
    }

    public static Result run(ModelBundle bundle, Retriever retriever, MemorySettings base, Options o, PrintStream log) {
        long start = System.nanoTime();
        ChatTemplate template = bundle.chatTemplate().orElseThrow(
                () -> new IllegalArgumentException("the recall check needs a model with a chat template"));
        TextTokenizer tok = bundle.tokenizer();
        int[] distances = o.distances().clone();
        Arrays.sort(distances);
        if (distances.length == 0 || distances[0] < base.localWindow()) {
            // a fact within the window is in neither the probe's half-window nor memory: not what is measured
            throw new IllegalArgumentException("every distance must be at least the local window ("
                    + base.localWindow() + " tokens), got " + Arrays.toString(distances));
        }
        // Facts of one distance are planned d + j*d/(10 F) tokens back; at 4k that is ~16 tokens apart, less than a
        // stated fact takes (~26), so they are stated back to back. Each also keeps room for the facts of its
        // distance stated after it (`reserve` tokens each), so the nearest still lands at least d back (until
        // session 13 the last of the 4k block landed ~3.85k back). The smallest reserve that achieves it is used, so
        // the block stays as dense as the plan makes it.
        Layout layout = null;
        for (int reserve = 20; layout == null && reserve <= 200; reserve += 2) {
            layout = layout(tok, template, o, distances, reserve, false);
        }
        if (layout == null) {
            // no reserve placed the nearest fact of some distance far enough (where it lands also depends on the
            // small talk drawn near the end): small talk appended until every fact is at least its distance back
            layout = layout(tok, template, o, distances, 20, true);
        }
        SyntheticDialogues gen = layout.gen();
        List<Placed> placed = layout.placed();
        long[] statedAt = layout.statedAt();
        List<Integer> ids = layout.ids();
        int[] history = ids.stream().mapToInt(Integer::intValue).toArray();
        int window = base.localWindow();
        int[] tail = Arrays.copyOfRange(history, history.length - window / 2, history.length);
        String tailText = tok.decode(tail, true);
        MemorySettings settings = new MemorySettings(base.memoryLayer(), base.retrievalLayers(), base.chunkSize(),
                base.topK(), base.localWindow(), Math.max(base.capacityTokens(), history.length + 2L * window),
                base.eviction(), base.kvDType(), base.nextChunks());
        MemLongEngine engine = new MemLongEngine(bundle, retriever, settings);
        log.printf(Locale.ROOT, "recall: reading a %d-token conversation with %d facts into memory ...%n",
                history.length, placed.size());

        int[] hitsMemory = new int[distances.length];
        int[] hitsWindow = new int[distances.length];
        int[] retrieved = new int[distances.length];
        int[] misread = new int[distances.length];
        int[] hitsWhenRetrieved = new int[distances.length];
        int[] ownerMisread = new int[distances.length];
        int[] counts = new int[distances.length];
        long[] minBack = new long[distances.length];
        long[] maxBack = new long[distances.length];
        Arrays.fill(minBack, Long.MAX_VALUE);
        List<String> samples = new ArrayList<>();
        try (MemoryBank bank = engine.newInMemoryBank()) {
            try (KvCachePool cache = engine.newCache(1); MemLongSequence reader = engine.newSequence(cache, 0, bank)) {
                reader.feed(history, true, false, null);
            }
            log.printf(Locale.ROOT, "recall: %d chunks in memory; asking %d questions ...%n", bank.chunkCount(),
                    placed.size());
            for (int i = 0; i < placed.size(); i++) {
                Placed p = placed.get(i);
                int d = Arrays.binarySearch(distances, p.distance());
                counts[d]++;
                ChatMessage question = gen.questionOnly(p.fact());
                int[] prompt = tok.encode(template.render(List.of(question), true), false);
                AtomicReference<Retrieval> last = new AtomicReference<>();
                String withMemory = ask(engine, bank, tail, prompt, true, last);
                String windowOnly;
                try (MemoryBank empty = engine.newInMemoryBank()) {
                    windowOnly = ask(engine, empty, tail, prompt, false, null);
                }
                String value = p.fact().value();
                boolean right = answers(withMemory, p.fact());
                if (right) {
                    hitsMemory[d]++;
                }
                if (answers(windowOnly, p.fact())) {
                    hitsWindow[d]++;
                }
                long back = history.length - statedAt[i];
                minBack[d] = Math.min(minBack[d], back);
                maxBack[d] = Math.max(maxBack[d], back);
                if (last.get() != null && last.get().chunks().stream().anyMatch(c -> holdsFact(c.text(), p.fact()))) {
                    retrieved[d]++;
                    if (right) {
                        hitsWhenRetrieved[d]++;
                    }
                }
                if (o.showMisses() && !right) {
                    logMiss(log, p.fact(), withMemory, last.get(), tailText, bank, retriever);
                }
                String answered = answeredValue(withMemory);
                if (!right && last.get() != null && !answered.isEmpty()
                        && last.get().chunks().stream().anyMatch(c -> containsWord(c.text(), answered))) {
                    misread[d]++;
                    if (p.fact().attribute().values().contains(answered)) {
                        ownerMisread[d]++;
                    }
                }
                if (samples.size() < 8 && i % Math.max(1, placed.size() / 8) == 0) {
                    samples.add(String.format(Locale.ROOT, "[%d tokens back] %s -> %s | window only: %s | told: %s",
                            history.length - statedAt[i], question.content(), withMemory.trim(), windowOnly.trim(),
                            value));
                }
            }
        }
        List<DistanceResult> results = new ArrayList<>();
        for (int d = 0; d < distances.length; d++) {
            results.add(new DistanceResult(distances[d], counts[d], ratio(hitsMemory[d], counts[d]),
                    ratio(hitsWindow[d], counts[d]), ratio(retrieved[d], counts[d]), ratio(misread[d], counts[d]),
                    ratio(hitsWhenRetrieved[d], retrieved[d]), ratio(ownerMisread[d], counts[d]), minBack[d],
                    maxBack[d]));
        }
        double[] pplMemory = {Double.NaN, Double.NaN};
        double[] pplWindow = {Double.NaN, Double.NaN};
        if (o.pplRounds() > 0) {
            List<ChatMessage> heldOut = new SyntheticDialogues(o.seed() + 1).longDialogue(o.pplRounds(), 6);
            List<Integer> dialogue = new ArrayList<>();
            List<Boolean> assistant = new ArrayList<>();
            for (ChatMessage m : heldOut) { // message by message, as the conversation above, to know whose each token is
                for (int id : tok.encode(template.render(List.of(m), false), false)) {
                    dialogue.add(id);
                    assistant.add(m.role().equals("assistant"));
                }
            }
            int[] heldOutIds = dialogue.stream().mapToInt(Integer::intValue).toArray();
            boolean[] mask = new boolean[heldOutIds.length];
            for (int i = 0; i < mask.length; i++) {
                mask[i] = assistant.get(i);
            }
            pplMemory = perplexity(engine, heldOutIds, mask, true);
            pplWindow = perplexity(engine, heldOutIds, mask, false);
        }
        return new Result(results, pplMemory[0], pplWindow[0], pplMemory[1], pplWindow[1], history.length,
                (System.nanoTime() - start) / 1e9, samples);
    }

    /** One probe: the conversation's last half-window, then the question; the greedy answer's text. */
    private static String ask(MemLongEngine engine, MemoryBank bank, int[] tail, int[] prompt, boolean memory,
                              AtomicReference<Retrieval> lastRetrieval) {
        try (KvCachePool cache = engine.newCache(1); MemLongSequence seq = engine.newSequence(cache, 0, bank)) {
            seq.setMemoryEnabled(memory);
            seq.feed(tail, true, false, null);
            if (lastRetrieval != null) {
                seq.onRetrieval(r -> {
                    if (lastRetrieval.get() == null) {
                        lastRetrieval.set(r); // the retrieval for the question itself
                    }
                });
            }
            ModelBundle bundle = engine.bundle();
            Generation g = bundle.generator().generate(MemLongEngine.stepper(seq), prompt,
                    SamplingParams.greedy(12).withStopTokens(bundle.tokenizer().eosTokenIds()), TokenListener.NONE);
            return g.text();
        }
    }

    /**
     * exp(mean next-token cross-entropy) of a dialogue read with or without memory: over every predicted token, and
     * over the tokens {@code assistant} marks.
     */
    private static double[] perplexity(MemLongEngine engine, int[] ids, boolean[] assistant, boolean memory) {
        double[] nll = {0, 0};
        int[] counted = {0};
        try (MemoryBank bank = engine.newInMemoryBank(); KvCachePool cache = engine.newCache(1);
             MemLongSequence seq = engine.newSequence(cache, 0, bank)) {
            seq.setMemoryEnabled(memory);
            seq.feed(ids, true, true, (index, logits) -> {
                if (index + 1 < ids.length) {
                    double loss = logSumExp(logits) - logits[ids[index + 1]];
                    nll[0] += loss;
                    if (assistant[index + 1]) {
                        nll[1] += loss;
                        counted[0]++;
                    }
                }
            });
        }
        return new double[] {Math.exp(nll[0] / (ids.length - 1)),
                counted[0] == 0 ? Double.NaN : Math.exp(nll[1] / counted[0])};
    }

    private static double logSumExp(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return max + Math.log(sum);
    }

    /** The value an answer names: its words after the last " is " ("your boss's car is kia." -> "kia"). */
    static String answeredValue(String answer) {
        String a = answer.trim();
        int at = a.lastIndexOf(" is ");
        return at < 0 ? "" : a.substring(at + 4).replaceAll("[^a-z0-9 ]", "").trim();
    }

    static boolean containsWord(String text, String word) {
        return Arrays.asList(text.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")).contains(word);
    }

    /**
     * Whether a chunk's text holds the whole fact: the user's statement or the assistant's acknowledgement of it,
     * owner, attribute and value as whole words ("my city is rome" is not in "my boss's city is rome", nor "my
     * mother's city" in "my grandmother's city").
     */
    static boolean holdsFact(String text, SyntheticDialogues.Fact f) {
        String key = f.key().substring(3); // without "my "
        return java.util.regex.Pattern.compile("(^|[^a-z0-9'])(my|your) " + java.util.regex.Pattern.quote(key
                + " is " + f.value()) + "($|[^a-z0-9])").matcher(normalize(text)).find();
    }

    /**
     * Whether an answer gives the asked fact: the owner, the attribute and the value as the assistant states them
     * ("your sister's city is lisbon"). Until session 13 the value alone counted, so naming the right value for
     * the wrong person (or reading another person's fact of the same value) counted as recall.
     */
    static boolean answers(String answer, SyntheticDialogues.Fact f) {
        String expected = normalize(f.answer()).replaceAll("[.]$", "");
        return java.util.regex.Pattern.compile("(^|[^a-z0-9'])" + java.util.regex.Pattern.quote(expected)
                + "($|[^a-z0-9])").matcher(normalize(answer)).find();
    }

    /** Lower case, the tokenizer's detached possessives joined ("sister ' s" -> "sister's"), spaces collapsed. */
    private static String normalize(String text) {
        return text.toLowerCase(Locale.ROOT).replace(" ' s", "'s").replace(" 's", "'s").replaceAll("\\s+", " ")
                .trim();
    }

    private static double ratio(int a, int b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }
}
