package dev.memlong.examples.bench;

import java.util.SplittableRandom;

/**
 * Seeded, varied English-like prose for the memory benchmark's synthetic history: sentences about people, places,
 * things, numbers and dates drawn from word lists, so that every chunk's text differs and the retriever's
 * embeddings spread the way real notes would, not like random token ids.
 */
final class HistoryText {

    private static final String[] NAMES = {"Alice", "Bruno", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana",
        "Ivan", "Jun", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq",
        "Uma", "Viktor", "Wen", "Yusuf", "Zoe"};
    private static final String[] PLACES = {"the harbour office", "the old library", "a mountain village",
        "the night market", "the research station", "a small bakery", "the train depot", "the city archive",
        "the river ferry", "a hospital ward", "the chess club", "the observatory", "a vineyard", "the print shop",
        "the football stadium", "a fishing boat", "the court house", "the botanical garden"};
    private static final String[] THINGS = {"a blue notebook", "the spare keys", "a broken violin", "the tax forms",
        "a jar of honey", "the signal lamp", "an old map", "the quarterly report", "a pair of boots",
        "the lab samples", "a wooden chest", "the wedding photos", "a bicycle pump", "the contract draft",
        "a box of seeds", "the radio transmitter", "a silver coin", "the recipe book"};
    private static final String[] VERBS = {"found", "repaired", "sold", "borrowed", "painted", "hid", "measured",
        "delivered", "lost", "catalogued", "photographed", "returned", "weighed", "translated", "packed"};
    private static final String[] TOPICS = {"the price of copper", "rainfall in the valley", "a new vaccine trial",
        "the bridge repairs", "migrating geese", "the election results", "solar panel output", "a jazz festival",
        "the rail strike", "coral bleaching", "a chess tournament", "the school budget", "volcanic ash",
        "a software outage", "the wheat harvest", "ancient pottery", "the housing market", "deep sea cables"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December"};

    private HistoryText() {}

    /** One sentence, ending with a space. */
    static String sentence(SplittableRandom r) {
        String name = pick(r, NAMES);
        return switch (r.nextInt(5)) {
            case 0 -> name + " " + pick(r, VERBS) + " " + pick(r, THINGS) + " at " + pick(r, PLACES) + " on "
                    + pick(r, MONTHS) + " " + (1 + r.nextInt(28)) + ", " + (1990 + r.nextInt(35)) + ". ";
            case 1 -> "In " + pick(r, PLACES) + ", " + name + " explained " + pick(r, TOPICS) + " to "
                    + pick(r, NAMES) + " for " + (2 + r.nextInt(90)) + " minutes. ";
            case 2 -> "The note says " + pick(r, THINGS) + " costs " + (3 + r.nextInt(900)) + " euros and belongs to "
                    + name + ". ";
            case 3 -> name + " asked whether " + pick(r, TOPICS) + " would change before " + pick(r, MONTHS)
                    + "; " + pick(r, NAMES) + " thought it was unlikely. ";
            default -> "Code " + Integer.toString(r.nextInt(1 << 20), 36) + " opens the locker where " + name
                    + " keeps " + pick(r, THINGS) + ". ";
        };
    }

    /** Sentences until at least {@code chars} characters. */
    static String text(SplittableRandom r, int chars) {
        StringBuilder b = new StringBuilder(chars + 160);
        while (b.length() < chars) {
            b.append(sentence(r));
        }
        return b.toString();
    }

    private static String pick(SplittableRandom r, String[] words) {
        return words[r.nextInt(words.length)];
    }
}
