package dev.memlong.runtime.retriever;

import java.util.ArrayList;
import java.util.List;

/**
 * Deterministic synthetic facts for retrieval tests: 250 people with four different attributes each, every fact in
 * its own chunk between filler sentences; each fact has a question only that fact answers (the person alone does
 * not identify the chunk: the attribute must match too).
 */
final class SyntheticFacts {

    record Fact(String chunkText, String question) {}

    private static final String[] FIRST = {
        "Alice", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ingrid", "Jamal",
        "Katya", "Lorenzo", "Maya", "Nikolai", "Olivia", "Pedro", "Quentin", "Rosa", "Sven", "Tamara",
        "Umar", "Valeria", "Wendell", "Ximena", "Yusuf", "Zora", "Anton", "Beatrix", "Cyrus", "Delia",
        "Emeric", "Fiona", "Gustav", "Helena", "Ivo", "Johanna", "Kofi", "Leila", "Marek", "Nadia"};
    private static final String[] LAST = {
        "Moreno", "Fischer", "Okafor", "Lindqvist", "Tanaka", "Kowalski", "Haddad", "Brennan", "Silva",
        "Novak", "Petrov", "Dubois", "Castellano", "Mwangi", "Andersen", "Rahman", "Whitfield", "Yilmaz",
        "Gallagher", "Ivanova", "Sorensen", "Achebe", "Laurent", "Vasquez", "Holloway"};
    private static final String[][] ATTRIBUTES = {
        {"favourite colour", "crimson", "teal", "amber", "violet", "olive", "turquoise", "maroon", "indigo"},
        {"home town", "Lisbon", "Krakow", "Nairobi", "Osaka", "Quebec", "Tucson", "Bergen", "Valparaiso"},
        {"dog's name", "Biscuit", "Pepper", "Rocket", "Mochi", "Juniper", "Waffles", "Bandit", "Clover"},
        {"profession", "glassblower", "tax auditor", "marine biologist", "locksmith", "cartographer",
            "beekeeper", "violin maker", "air traffic controller"},
        {"favourite dessert", "lemon tart", "tiramisu", "baklava", "cheesecake", "creme brulee", "mochi ice cream",
            "apple strudel", "pavlova"},
        {"car", "a red Volvo estate", "a battered Land Rover", "a silver Tesla", "a yellow Fiat Panda",
            "a vintage Beetle", "a green Subaru", "a black Mustang", "an electric scooter"},
        {"birthday month", "January", "March", "May", "July", "August", "October", "November", "December"},
        {"lucky number", "seven", "thirteen", "forty-two", "eighty-one", "three", "nineteen", "sixty-six",
            "twenty-four"},
        {"favourite instrument", "the cello", "the bagpipes", "the harmonica", "the oboe", "the ukulele",
            "the marimba", "the trombone", "the harp"},
        {"favourite sport", "curling", "water polo", "fencing", "badminton", "rock climbing", "cricket",
            "table tennis", "rowing"},
    };
    private static final String[] FILLER = {
        "The weather was mild that afternoon.",
        "Nobody at the meeting had expected the delay.",
        "The train arrived a few minutes early.",
        "There was a long queue outside the bakery.",
        "The report was filed on a Tuesday.",
        "Several people were talking about the news.",
        "The garden needed watering again.",
        "It had been a quiet week at the office.",
        "Someone left the window open overnight.",
        "The library closes early on Fridays.",
        "Coffee was served in the hall after the talk.",
        "The bus route changed last spring.",
    };

    private SyntheticFacts() {}

    private static final int FACTS_PER_PERSON = 4;

    /** {@code n} facts (at most 4,000), four per person, in an order that interleaves people. */
    static List<Fact> generate(int n) {
        int people = FIRST.length * LAST.length;
        if (n > people * FACTS_PER_PERSON) {
            throw new IllegalArgumentException("at most " + people * FACTS_PER_PERSON + " facts");
        }
        int peopleUsed = (n + FACTS_PER_PERSON - 1) / FACTS_PER_PERSON;
        List<Fact> facts = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int p = i % peopleUsed;
            int nth = i / peopleUsed;
            String name = FIRST[p % FIRST.length] + " " + LAST[(p / FIRST.length + p) % LAST.length];
            // The four attributes of one person are distinct: offsets 0..3 from a per-person start, mod 10.
            String[] attribute = ATTRIBUTES[(p * 3 + nth) % ATTRIBUTES.length];
            String value = attribute[1 + (i * 5 + i / 3) % (attribute.length - 1)];
            String fact = attribute[0].equals("car")
                    ? name + " drives " + value + "."
                    : name + "'s " + attribute[0] + " is " + value + ".";
            String text = FILLER[i % FILLER.length] + " " + fact + " " + FILLER[(i * 5 + 3) % FILLER.length];
            String question = attribute[0].equals("car")
                    ? "What car does " + name + " drive?"
                    : "What is " + name + "'s " + attribute[0] + "?";
            facts.add(new Fact(text, question));
        }
        return facts;
    }
}
