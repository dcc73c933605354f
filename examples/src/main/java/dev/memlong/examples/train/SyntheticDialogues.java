package dev.memlong.examples.train;

import dev.memlong.runtime.tokenizer.ChatMessage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Multi-session dialogues for training and testing memory: the user states facts (a name, a city, a code, a number,
 * a pet, a colour, a food), talks about other things for a long time, then asks about the facts; the assistant
 * answers from what was said. Deterministic for a seed; every word comes from {@link #vocabulary()}.
 */
public final class SyntheticDialogues {

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
    private static final List<String> TOPICS = List.of("the weather", "football", "music", "books", "cooking",
            "the news", "travel", "movies", "gardening", "chess", "painting", "running", "history", "science",
            "the ocean", "mountains", "trains", "coffee", "tea", "winter", "summer", "birds", "computers", "art");
    private static final List<String> THINGS = List.of("a bridge", "a market", "a concert", "a museum", "a park",
            "a river", "a castle", "a library", "a festival", "a lake", "a forest", "a tower", "a garden", "a beach");
    private static final List<String> ADJECTIVES = List.of("nice", "long", "quiet", "busy", "strange", "lovely",
            "cold", "warm", "boring", "funny", "old", "new", "big", "small", "calm", "loud");
    private static final List<String> DAYS = List.of("monday", "tuesday", "wednesday", "thursday", "friday",
            "saturday", "sunday", "yesterday", "today", "last week");
    private static final List<String> REASONS = List.of("it helps people relax", "there is always more to learn",
            "it brings people together", "it changes every year", "many people enjoy it", "it takes a lot of practice",
            "it can be very surprising", "it has a long history");

    /** A fact the user states and may later ask about. */
    record Fact(String kind, String value) {
        String statement() {
            return switch (kind) {
                case "name" -> "my name is " + value + ".";
                case "city" -> "i live in " + value + ".";
                case "code" -> "my secret code is " + value + ".";
                case "number" -> "my lucky number is " + value + ".";
                case "pet" -> "my dog is called " + value + ".";
                case "color" -> "my favorite color is " + value + ".";
                default -> "my favorite food is " + value + ".";
            };
        }

        String question() {
            return switch (kind) {
                case "name" -> "what is my name?";
                case "city" -> "where do i live?";
                case "code" -> "what is my secret code?";
                case "number" -> "what is my lucky number?";
                case "pet" -> "what is my dog called?";
                case "color" -> "what is my favorite color?";
                default -> "what is my favorite food?";
            };
        }

        String answer() {
            return switch (kind) {
                case "name" -> "your name is " + value + ".";
                case "city" -> "you live in " + value + ".";
                case "code" -> "your secret code is " + value + ".";
                case "number" -> "your lucky number is " + value + ".";
                case "pet" -> "your dog is called " + value + ".";
                case "color" -> "your favorite color is " + value + ".";
                default -> "your favorite food is " + value + ".";
            };
        }
    }

    static final List<String> KINDS = List.of("name", "city", "code", "number", "pet", "color", "food");

    private final Random rnd;

    public SyntheticDialogues(long seed) {
        this.rnd = new Random(seed);
    }

    private <T> T pick(List<T> list) {
        return list.get(rnd.nextInt(list.size()));
    }

    Fact randomFact(String kind) {
        return new Fact(kind, switch (kind) {
            case "name" -> pick(NAMES);
            case "city" -> pick(CITIES);
            case "code" -> String.valueOf(1000 + rnd.nextInt(9000));
            case "number" -> String.valueOf(10 + rnd.nextInt(90));
            case "pet" -> pick(PETS);
            case "color" -> pick(COLORS);
            default -> pick(FOODS);
        });
    }

    /** One small-talk exchange that mentions no fact. */
    List<ChatMessage> smallTalk() {
        String topic = pick(TOPICS);
        return switch (rnd.nextInt(4)) {
            case 0 -> List.of(ChatMessage.user("tell me something about " + topic + "."),
                    ChatMessage.assistant(topic + " is interesting because " + pick(REASONS) + "."));
            case 1 -> List.of(ChatMessage.user("on " + pick(DAYS) + " i saw " + pick(THINGS) + ". it was "
                            + pick(ADJECTIVES) + "."),
                    ChatMessage.assistant("that sounds " + pick(ADJECTIVES) + ". did you like " + pick(THINGS) + " too?"));
            case 2 -> List.of(ChatMessage.user("what do you think about " + topic + "?"),
                    ChatMessage.assistant("i think " + topic + " is " + pick(ADJECTIVES) + ", and " + pick(REASONS) + "."));
            default -> List.of(ChatMessage.user("i was thinking about " + topic + " and " + pick(TOPICS) + " on "
                            + pick(DAYS) + "."),
                    ChatMessage.assistant("both are " + pick(ADJECTIVES) + " things to think about."));
        };
    }

    /**
     * A dialogue of {@code sessions} sessions: each states two or three new facts, has {@code fillerTurns} small-talk
     * exchanges, then asks about two facts (from any session so far).
     */
    public List<ChatMessage> dialogue(int sessions, int fillerTurns) {
        List<ChatMessage> out = new ArrayList<>();
        Map<String, Fact> known = new LinkedHashMap<>();
        for (int s = 0; s < sessions; s++) {
            List<String> kinds = new ArrayList<>(KINDS);
            java.util.Collections.shuffle(kinds, rnd);
            int n = 2 + rnd.nextInt(2);
            StringBuilder said = new StringBuilder("hello.");
            for (int i = 0; i < n; i++) {
                Fact f = randomFact(kinds.get(i));
                known.put(f.kind(), f);
                said.append(' ').append(f.statement());
            }
            out.add(ChatMessage.user(said.toString()));
            out.add(ChatMessage.assistant("nice to meet you. i will remember that."));
            int filler = fillerTurns / 2 + rnd.nextInt(fillerTurns + 1);
            for (int i = 0; i < filler; i++) {
                out.addAll(smallTalk());
            }
            List<Fact> facts = new ArrayList<>(known.values());
            for (int q = 0; q < 2; q++) {
                Fact f = facts.get(rnd.nextInt(facts.size()));
                out.add(ChatMessage.user(f.question()));
                out.add(ChatMessage.assistant(f.answer()));
            }
        }
        return out;
    }

    /** Every word the dialogues use (for building a vocabulary), digits excluded. */
    public static Set<String> vocabulary() {
        Set<String> words = new LinkedHashSet<>();
        List<List<String>> lists = List.of(NAMES, CITIES, PETS, COLORS, FOODS, TOPICS, THINGS, ADJECTIVES, DAYS, REASONS);
        for (List<String> l : lists) {
            for (String s : l) {
                words.addAll(List.of(s.split(" ")));
            }
        }
        String templates = "my name is i live in my secret code is my lucky number is my dog is called my favorite color"
                + " is my favorite food is what where do your you hello nice to meet you i will remember that tell me"
                + " something about is interesting because on i saw it was that sounds did you like too what do you think"
                + " about i think and i was thinking about both are things to think about";
        words.addAll(List.of(templates.split(" ")));
        return words;
    }
}
