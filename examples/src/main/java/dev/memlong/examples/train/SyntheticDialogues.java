package dev.memlong.examples.train;

import dev.memlong.runtime.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Dialogues for training and testing memory: the user states facts about themselves and the people around them
 * ("my sister's city is lisbon."), the assistant acknowledges each by repeating it, they talk about other things,
 * and later the user asks about a fact ("what is my sister's city?") and the assistant answers from what was said.
 * Deterministic for a seed; every word comes from {@link #vocabulary()}.
 *
 * <p>Design choices that make the facts learnable and retrievable, recorded here because the demo model depends
 * on them:
 * <ul>
 *   <li>A fact's key is a (person, attribute) pair, 19 x 8 of them, so a long conversation can hold many distinct
 *       facts; a dialogue never states the same key twice.</li>
 *   <li>Every value is one token (numbers 10-99 are whole words in the vocabulary), so answering is one copy.</li>
 *   <li>The acknowledgement repeats the fact: a chunk boundary can cut one statement, never both, so some memory
 *       chunk always holds the whole fact (a fact is about 12 tokens, a chunk 64).</li>
 *   <li>Small talk uses none of the fact words (people, attributes, values), so the retriever can tell a fact's
 *       chunk from chatter.</li>
 * </ul>
 */
public final class SyntheticDialogues {

    static final List<String> PEOPLE = List.of("sister", "brother", "mother", "father", "boss", "friend", "neighbor",
            "cousin", "teacher", "doctor", "uncle", "aunt", "son", "daughter", "partner", "coach", "landlord",
            "grandmother", "grandfather");
    static final List<String> NAMES = List.of("anna", "boris", "clara", "david", "elena", "felix", "greta", "hugo",
            "irene", "jonas", "karla", "leon", "maria", "nils", "olga", "paul", "rosa", "simon", "tanja", "viktor",
            "wanda", "yusuf", "zoe", "mila", "oskar", "lena", "theo", "nora", "emil", "ida");
    static final List<String> CITIES = List.of("paris", "berlin", "madrid", "rome", "vienna", "oslo", "lisbon", "prague",
            "dublin", "warsaw", "athens", "zurich", "munich", "lyon", "porto", "krakow", "bergen", "tokyo", "lima",
            "cairo", "sydney", "toronto", "boston", "denver", "austin");
    static final List<String> PETS = List.of("rex", "bella", "max", "luna", "charlie", "daisy", "milo", "coco",
            "rocky", "lucy", "buddy", "molly", "toby", "ruby", "bruno", "nala");
    static final List<String> COLORS = List.of("red", "blue", "green", "yellow", "purple", "orange", "black", "white",
            "pink", "brown", "grey", "gold");
    static final List<String> FOODS = List.of("pizza", "pasta", "sushi", "soup", "rice", "bread", "cheese", "apples",
            "curry", "salad", "tacos", "noodles", "cake", "fish");
    static final List<String> JOBS = List.of("nurse", "pilot", "chef", "lawyer", "baker", "farmer", "dentist",
            "architect", "plumber", "engineer", "writer", "singer", "banker", "carpenter", "florist", "librarian");
    static final List<String> CARS = List.of("volvo", "fiat", "skoda", "tesla", "honda", "toyota", "mazda", "audi",
            "renault", "kia", "jeep", "mini", "saab", "lada");
    static final List<String> NUMBERS = numbers();

    /** An attribute of a person: how it is said, and its values. */
    record Attribute(String words, List<String> values) {}

    static final List<Attribute> ATTRIBUTES = List.of(new Attribute("name", NAMES), new Attribute("city", CITIES),
            new Attribute("dog", PETS), new Attribute("favorite color", COLORS), new Attribute("favorite food", FOODS),
            new Attribute("job", JOBS), new Attribute("car", CARS), new Attribute("lucky number", NUMBERS));

    private static final List<String> TOPICS = List.of("the weather", "football", "music", "books", "cooking",
            "the news", "travel", "movies", "gardening", "chess", "painting", "running", "history", "science",
            "the ocean", "mountains", "trains", "coffee", "tea", "winter", "summer", "birds", "computers", "art",
            "the moon", "poetry", "dancing", "photography", "hiking", "the stars", "languages", "board games");
    private static final List<String> THINGS = List.of("a bridge", "a market", "a concert", "a museum", "a park",
            "a river", "a castle", "a library", "a festival", "a lake", "a forest", "a tower", "a garden", "a beach",
            "a film", "a play", "a storm", "a rainbow", "a parade", "a train station");
    private static final List<String> ADJECTIVES = List.of("nice", "long", "quiet", "busy", "strange", "lovely",
            "cold", "warm", "boring", "funny", "old", "new", "big", "small", "calm", "loud", "bright", "dark",
            "wonderful", "odd");
    private static final List<String> DAYS = List.of("monday", "tuesday", "wednesday", "thursday", "friday",
            "saturday", "sunday", "yesterday", "today", "last week", "this morning", "last night");
    private static final List<String> REASONS = List.of("it helps people relax", "there is always more to learn",
            "it brings people together", "it changes every year", "many people enjoy it", "it takes a lot of practice",
            "it can be very surprising", "it has a long history", "it makes the day better", "nobody really knows why");
    private static final List<String> OPENERS = List.of("", "by the way, ", "oh, and ", "remember this: ",
            "a fact for you: ", "please note that ");
    private static final List<String> ACKS = List.of("got it: ", "noted, ", "i will remember that ", "okay, ",
            "thanks, so ");
    private static final List<String> ASKS = List.of("what is %s?", "do you remember %s?", "tell me %s.",
            "can you remind me of %s?");
    /** Questions by value ("what is kia?"), in words the vocabulary already has: see {@link #reverseShare}. */
    private static final List<String> REVERSE_ASKS = List.of("what is %s?", "tell me about %s.", "do you remember %s?");

    private static List<String> numbers() {
        List<String> out = new ArrayList<>();
        for (int i = 10; i < 100; i++) {
            out.add(String.valueOf(i));
        }
        return List.copyOf(out);
    }

    /** A fact the user states and may later ask about; {@code person} is null for the user themselves. */
    public record Fact(String person, Attribute attribute, String value) {
        private String owner(boolean user) {
            String mine = user ? "my" : "your";
            return person == null ? mine : mine + " " + person + "'s";
        }

        /** The user's words, e.g. "my sister's city is lisbon." */
        public String statement() {
            return owner(true) + " " + attribute.words() + " is " + value + ".";
        }

        /** The assistant's answer, e.g. "your sister's city is lisbon." */
        public String answer() {
            return owner(false) + " " + attribute.words() + " is " + value + ".";
        }

        String key() {
            return owner(true) + " " + attribute.words();
        }

        /** The assistant's answer to a question by value, e.g. "lisbon is your sister's city." */
        public String reverseAnswer() {
            return value + " is " + owner(false) + " " + attribute.words() + ".";
        }

        public String value() {
            return value;
        }
    }

    private final Random rnd;

    /** Whether a memory drill's two facts of the window share the remembered facts' attribute (see the constructor). */
    private final boolean windowOwners;

    public SyntheticDialogues(long seed) {
        this(seed, false);
    }

    /**
     * @param windowOwners a memory drill whose remembered facts are one attribute of several people also states and asks
     *                     in the window two more people's values of that attribute, so that answering inside the window
     *                     needs the owner at the value too (the binding that memory reading lacks: README, "Status")
     */
    public SyntheticDialogues(long seed, boolean windowOwners) {
        this(seed, windowOwners, 0);
    }

    /**
     * @param reverseShare share of a memory drill's remembered facts asked by value instead ("what is kia?" ->
     *                     "kia is your aunt's car."; only where no other fact of the drill has that value). Answering
     *                     needs whose value it is, read from the value's own memory K/V: a loss that needs the owner
     *                     at the value, which the forward questions never forced (README, "Status": the layers that
     *                     write memory did not store it). 0 draws nothing extra, so the data is as before.
     */
    public SyntheticDialogues(long seed, boolean windowOwners, double reverseShare) {
        if (!(reverseShare >= 0 && reverseShare <= 1)) {
            throw new IllegalArgumentException("reverse question share must be in [0, 1], got " + reverseShare);
        }
        this.rnd = new Random(seed);
        this.windowOwners = windowOwners;
        this.reverseShare = reverseShare;
    }

    /** See {@link #SyntheticDialogues(long, boolean, double)}. */
    private final double reverseShare;

    private <T> T pick(List<T> list) {
        return list.get(rnd.nextInt(list.size()));
    }

    /** {@code n} facts with distinct keys. */
    public List<Fact> facts(int n) {
        List<Fact> out = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>();
        while (out.size() < n) {
            String person = rnd.nextInt(PEOPLE.size() + 1) == 0 ? null : pick(PEOPLE);
            Attribute a = pick(ATTRIBUTES);
            Fact f = new Fact(person, a, pick(a.values()));
            if (keys.add(f.key())) {
                out.add(f);
            }
            if (keys.size() >= (PEOPLE.size() + 1) * ATTRIBUTES.size()) {
                throw new IllegalArgumentException("at most " + keys.size() + " distinct facts");
            }
        }
        return out;
    }

    /**
     * {@code n} facts with distinct keys and, per attribute, distinct values (no two people share a city): for
     * checks that score an answer by its value, so that reading another person's fact of the same attribute can
     * never give the asked value by coincidence. Draws differ from {@link #facts}'s (training data keeps those).
     */
    public List<Fact> distinctFacts(int n) {
        List<Fact> out = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>();
        Set<String> values = new LinkedHashSet<>();
        for (int attempts = 0; out.size() < n; attempts++) {
            if (attempts > 1_000 * Math.max(1, n)) {
                throw new IllegalArgumentException("cannot draw " + n + " facts with distinct keys and values");
            }
            String person = rnd.nextInt(PEOPLE.size() + 1) == 0 ? null : pick(PEOPLE);
            Attribute a = pick(ATTRIBUTES);
            Fact f = new Fact(person, a, pick(a.values()));
            if (!keys.contains(f.key()) && !values.contains(a.words() + "=" + f.value())) {
                keys.add(f.key());
                values.add(a.words() + "=" + f.value());
                out.add(f);
            }
        }
        return out;
    }

    /**
     * {@code n} facts with distinct keys that share people and attributes ("my sister's city", "my sister's car",
     * "my boss's city", ...): the hard negatives that retrieval brings back beside the asked fact, because the
     * retriever ranks chunks by the question's words. A model that learnt recall only among unrelated facts matches
     * one word of the key and picks the wrong one of these. The keys are drawn from a grid of two people and
     * {@code max(2, (n + 1) / 2)} attributes, so from three facts on some person or attribute is always shared; two
     * facts may be the grid's diagonal (stage 1 of the demo model was trained with this, so it stays as it is).
     */
    public List<Fact> relatedFacts(int n) {
        List<String> people = new ArrayList<>();
        while (people.size() < 2) {
            String p = rnd.nextInt(PEOPLE.size() + 1) == 0 ? null : pick(PEOPLE);
            if (!people.contains(p)) {
                people.add(p);
            }
        }
        List<Attribute> attributes = new ArrayList<>();
        while (attributes.size() < Math.max(2, (n + 1) / 2)) {
            Attribute a = pick(ATTRIBUTES);
            if (!attributes.contains(a)) {
                attributes.add(a);
            }
        }
        List<Fact> all = new ArrayList<>();
        for (String p : people) {
            for (Attribute a : attributes) {
                all.add(new Fact(p, a, pick(a.values())));
            }
        }
        if (n > all.size()) {
            throw new IllegalArgumentException("at most " + all.size() + " related facts, asked for " + n);
        }
        Collections.shuffle(all, rnd);
        return List.copyOf(all.subList(0, n));
    }

    /**
     * {@code n} facts of one attribute about {@code n} different people ("my boss's lucky number", "my coach's lucky
     * number", "my lucky number", ...). This is what retrieval brings back for a question in a long conversation: its
     * chunks are chosen by the question's words, so most hold the asked attribute, each about someone else, and the
     * answer hangs on whose value it is. {@link #relatedFacts}' grid of two people never has more than two owners of
     * one attribute; a model trained only on it answered another person's value when the asked fact's chunk was
     * retrieved (session 7's diagnosis of the recall check: 20 of 25 wrong answers were a value in retrieved memory).
     */
    public List<Fact> sameAttributeFacts(int n) {
        List<String> people = new ArrayList<>(PEOPLE);
        people.add(null); // the user's own
        if (n < 1 || n > people.size()) {
            throw new IllegalArgumentException("1 to " + people.size() + " facts of one attribute, asked for " + n);
        }
        Collections.shuffle(people, rnd);
        Attribute a = pick(ATTRIBUTES);
        List<Fact> out = new ArrayList<>();
        for (String p : people.subList(0, n)) {
            out.add(new Fact(p, a, pick(a.values())));
        }
        return List.copyOf(out);
    }

    /** How the remembered facts of a drill relate: the negatives reading must tell from the asked fact. */
    public enum Negatives {
        /** distinct keys drawn at random */
        NONE,
        /** {@link #relatedFacts}: two people and a few attributes */
        SHARED,
        /** {@link #sameAttributeFacts}: one attribute, as many people as facts */
        SAME_ATTRIBUTE
    }

    private List<Fact> remembered(int n, Negatives negatives) {
        return switch (negatives) {
            case NONE -> facts(n);
            case SHARED -> relatedFacts(n);
            case SAME_ATTRIBUTE -> sameAttributeFacts(n);
        };
    }

    /** The user states a fact; the assistant repeats it. */
    public List<ChatMessage> statement(Fact f) {
        return List.of(ChatMessage.user(pick(OPENERS) + f.statement()), ChatMessage.assistant(pick(ACKS) + f.answer()));
    }

    /** The user asks about a fact; the assistant answers it. */
    public List<ChatMessage> question(Fact f) {
        return List.of(questionOnly(f), ChatMessage.assistant(f.answer()));
    }

    /** The user asks by a fact's value; the assistant says whose value of what it is. */
    public List<ChatMessage> reverseQuestion(Fact f) {
        return List.of(ChatMessage.user(String.format(pick(REVERSE_ASKS), f.value())), ChatMessage.assistant(f.reverseAnswer()));
    }

    /**
     * A question about a remembered fact of {@code drill}: by its key, or with {@link #reverseShare} by its value where
     * no other fact of the drill has that value.
     */
    private List<ChatMessage> ask(Fact f, List<Fact> drill) {
        if (reverseShare > 0 && rnd.nextDouble() < reverseShare
                && drill.stream().filter(g -> g.value().equals(f.value())).count() == 1) {
            return reverseQuestion(f);
        }
        return question(f);
    }

    /** Just the user's question. */
    public ChatMessage questionOnly(Fact f) {
        return ChatMessage.user(String.format(pick(ASKS), f.key()));
    }

    /** One small-talk exchange that mentions no fact word. */
    public List<ChatMessage> smallTalk() {
        String topic = pick(TOPICS);
        return switch (rnd.nextInt(5)) {
            case 0 -> List.of(ChatMessage.user("tell me something about " + topic + "."),
                    ChatMessage.assistant(topic + " is interesting because " + pick(REASONS) + "."));
            case 1 -> List.of(ChatMessage.user(pick(DAYS) + " i saw " + pick(THINGS) + ". it was " + pick(ADJECTIVES) + "."),
                    ChatMessage.assistant("that sounds " + pick(ADJECTIVES) + ". did you like " + pick(THINGS) + " too?"));
            case 2 -> List.of(ChatMessage.user("what do you think about " + topic + "?"),
                    ChatMessage.assistant("i think " + topic + " is " + pick(ADJECTIVES) + ", and " + pick(REASONS) + "."));
            case 3 -> List.of(ChatMessage.user("i read about " + topic + " and " + pick(TOPICS) + " " + pick(DAYS) + "."),
                    ChatMessage.assistant("both are " + pick(ADJECTIVES) + " things to think about."));
            default -> List.of(ChatMessage.user("is " + topic + " " + pick(ADJECTIVES) + " or " + pick(ADJECTIVES) + "?"),
                    ChatMessage.assistant("some say " + pick(ADJECTIVES) + ", because " + pick(REASONS) + "."));
        };
    }

    /**
     * A long dialogue (the recall check's held-out dialogue for perplexity; session 3's MemLong stage trained on
     * these): {@code rounds} rounds of stating one to three facts, small talk ({@code filler} exchanges on average,
     * about 25 tokens each), and questions about facts from any earlier round, so most answers lie beyond a small
     * window and only memory holds them.
     */
    public List<ChatMessage> longDialogue(int rounds, int filler) {
        List<Fact> fs = facts(Math.min(rounds * 3, 100));
        List<Fact> known = new ArrayList<>();
        List<ChatMessage> out = new ArrayList<>();
        int next = 0;
        for (int r = 0; r < rounds && next < fs.size(); r++) {
            int n = 1 + rnd.nextInt(3);
            for (int i = 0; i < n && next < fs.size(); i++) {
                Fact f = fs.get(next++);
                out.addAll(statement(f));
                known.add(f);
            }
            int talk = filler / 2 + rnd.nextInt(filler + 1);
            for (int i = 0; i < talk; i++) {
                out.addAll(smallTalk());
            }
            int questions = 1 + rnd.nextInt(3);
            for (int q = 0; q < questions; q++) {
                out.addAll(question(known.get(rnd.nextInt(known.size()))));
            }
        }
        return out;
    }

    /**
     * A memory drill (the demo model's training data), in parts that {@link MemoryDrillDocuments} lays out on segment
     * boundaries: {@code stated} (the user states facts, the assistant acknowledges each) and then small talk
     * ({@code filler}) fill the first training segment(s), which then lie only in memory; {@code asked} (every fact asked
     * about once, in a random order, with small talk and two new facts stated and asked nearby) fills the next ones.
     * Dense questions about facts only memory holds are what teach the model to read memory: in long dialogues such
     * answers are one token in a few hundred. The assistant's turns are marked {@link Turn#trained}, the user's are
     * context only (their words are random draws, not something to learn).
     */
    public record MemoryDrill(List<Turn> stated, List<Turn> asked, List<Turn> filler) {}

    /** A message of a training dialogue, and whether the model is trained to predict it. */
    public record Turn(ChatMessage message, boolean trained) {}

    public MemoryDrill memoryDrill(int facts) {
        return memoryDrill(facts, false);
    }

    /** As {@link #memoryDrill(int)}; with {@code related}, the remembered facts share people and attributes. */
    public MemoryDrill memoryDrill(int facts, boolean related) {
        return memoryDrill(facts, related ? Negatives.SHARED : Negatives.NONE);
    }

    /** As {@link #memoryDrill(int)}, with remembered facts related as {@code negatives} says. */
    public MemoryDrill memoryDrill(int facts, Negatives negatives) {
        return memoryDrill(facts, negatives, false);
    }

    /**
     * As {@link #memoryDrill(int, Negatives)}; with {@code questionsFirst}, the questions about the remembered facts
     * (with their small talk) come before the two facts of the window, so that they fill the first asked segment: with
     * the window's facts among them, about half of a four-fact drill's questions fell beyond one segment of 128 tokens.
     */
    public MemoryDrill memoryDrill(int facts, Negatives negatives, boolean questionsFirst) {
        List<Fact> fs = windowOwners && negatives == Negatives.SAME_ATTRIBUTE
                ? withSameAttributeWindowFacts(remembered(facts, negatives))
                : withWindowFacts(remembered(facts, negatives));
        List<Fact> remembered = fs.subList(0, facts);
        List<Turn> stated = new ArrayList<>();
        remembered.forEach(f -> stated.addAll(turns(statement(f), true)));
        return new MemoryDrill(stated, questionsFirst ? askedQuestionsFirst(fs, facts) : asked(fs, facts), filler());
    }

    /**
     * A memory drill for the MemLong stage (retrieval in the loop): {@code facts} related facts ({@link
     * #relatedFacts}: two people, up to eight attributes) stated with small talk between them, so they span several
     * segments and many memory chunks, as facts spread over a conversation do; then each asked once. Retrieval then
     * brings back several chunks of facts about the same people and attributes, and the model must pick the asked
     * one among them (a model trained with one segment of memory picked right far less often from 8 retrieved
     * chunks than from 2).
     */
    public MemoryDrill retrievalDrill(int facts) {
        return retrievalDrill(facts, Negatives.SHARED);
    }

    /** As {@link #retrievalDrill(int)}, with remembered facts related as {@code negatives} says. */
    public MemoryDrill retrievalDrill(int facts, Negatives negatives) {
        List<Fact> fs = withWindowFacts(remembered(facts, negatives));
        List<Turn> stated = new ArrayList<>();
        for (Fact f : fs.subList(0, facts)) {
            stated.addAll(turns(statement(f), true));
            if (rnd.nextBoolean()) {
                stated.addAll(turns(smallTalk(), true));
            }
        }
        return new MemoryDrill(stated, asked(fs, facts), filler());
    }

    /** The remembered facts (one attribute) plus two of the window: the same attribute, two more people. */
    private List<Fact> withSameAttributeWindowFacts(List<Fact> remembered) {
        List<Fact> fs = new ArrayList<>(remembered);
        List<String> people = new ArrayList<>(PEOPLE);
        people.add(null);
        Collections.shuffle(people, rnd);
        Attribute a = remembered.get(0).attribute();
        for (String p : people) {
            if (fs.size() < remembered.size() + 2 && fs.stream().noneMatch(g -> java.util.Objects.equals(g.person(), p))) {
                fs.add(new Fact(p, a, pick(a.values())));
            }
        }
        return fs;
    }

    /** The remembered facts plus two of the window, with keys not already used. */
    private List<Fact> withWindowFacts(List<Fact> remembered) {
        List<Fact> fs = new ArrayList<>(remembered);
        int facts = remembered.size();
        for (Fact f : facts(facts + 2)) {
            if (fs.size() < facts + 2 && fs.stream().noneMatch(g -> g.key().equals(f.key()))) {
                fs.add(f);
            }
        }
        return fs;
    }

    /** The asked part: each of the first {@code facts} of {@code fs} asked once, small talk, two facts of the window. */
    private List<Turn> asked(List<Fact> fs, int facts) {
        List<Fact> remembered = fs.subList(0, facts);
        List<List<Turn>> events = new ArrayList<>();
        // each asked once: a second ask could copy the first answer from the window instead of reading memory
        List<Fact> order = new ArrayList<>(remembered);
        Collections.shuffle(order, rnd);
        order.forEach(f -> events.add(turns(ask(f, fs), true)));
        for (int i = 0; i < facts / 2; i++) {
            events.add(turns(smallTalk(), true));
        }
        Collections.shuffle(events, rnd);
        // two facts of the window: stated early in the asked part, asked later in it, so in-window recall keeps training
        for (int i = 0; i < 2; i++) {
            Fact local = fs.get(facts + i);
            int at = rnd.nextInt(Math.max(1, events.size() / 3));
            events.add(at, turns(statement(local), true));
            events.add(Math.min(events.size(), at + 2 + rnd.nextInt(4)), turns(question(local), true));
        }
        List<Turn> asked = new ArrayList<>();
        events.forEach(asked::addAll);
        return asked;
    }

    /**
     * The asked part with the remembered facts' questions first: each asked once, in a random order, among {@code
     * facts / 2} small-talk exchanges; then the two facts of the window stated and asked.
     */
    private List<Turn> askedQuestionsFirst(List<Fact> fs, int facts) {
        List<List<Turn>> events = new ArrayList<>();
        fs.subList(0, facts).forEach(f -> events.add(turns(ask(f, fs), true)));
        for (int i = 0; i < facts / 2; i++) {
            events.add(turns(smallTalk(), true));
        }
        Collections.shuffle(events, rnd);
        List<List<Turn>> local = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            local.add(turns(question(fs.get(facts + i)), true));
        }
        Collections.shuffle(local, rnd);
        for (int i = 0; i < 2; i++) {
            events.add(turns(statement(fs.get(facts + i)), true));
        }
        events.addAll(local);
        List<Turn> asked = new ArrayList<>();
        events.forEach(asked::addAll);
        return asked;
    }

    /** Small talk to pad the stated part to its segments. */
    private List<Turn> filler() {
        List<Turn> filler = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            filler.addAll(turns(smallTalk(), true));
        }
        return filler;
    }

    /** An exchange as turns: the user's never trained on, the assistant's as {@code trained} says. */
    private static List<Turn> turns(List<ChatMessage> exchange, boolean trained) {
        return exchange.stream().map(m -> new Turn(m, trained && m.role().equals("assistant"))).toList();
    }

    /** Every value a fact can have (the words only memory can supply when a fact is asked about long after). */
    public static Set<String> valueWords() {
        Set<String> words = new LinkedHashSet<>();
        ATTRIBUTES.forEach(a -> words.addAll(a.values()));
        return words;
    }

    /** Every word the dialogues use (for building a vocabulary). */
    public static Set<String> vocabulary() {
        Set<String> words = new LinkedHashSet<>();
        List<List<String>> lists = List.of(PEOPLE, NAMES, CITIES, PETS, COLORS, FOODS, JOBS, CARS, NUMBERS, TOPICS,
                THINGS, ADJECTIVES, DAYS, REASONS, OPENERS, ACKS, ASKS);
        for (List<String> l : lists) {
            for (String s : l) {
                for (String w : s.split("[^a-z0-9]+")) {
                    if (!w.isEmpty()) {
                        words.add(w);
                    }
                }
            }
        }
        ATTRIBUTES.forEach(a -> words.addAll(List.of(a.words().split(" "))));
        String templates = "remember this okay repeat after me my your is what do you think about tell me something interesting because i saw it was"
                + " that sounds did like too and read both are things to think some say or";
        words.addAll(List.of(templates.split(" ")));
        return words;
    }
}
