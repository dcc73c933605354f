package dev.memlong.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo model's data and tokenizer: deterministic dialogues, no unknown tokens, lossless decoding. */
class SyntheticDialoguesTest {

    @TempDir
    Path tmp;

    @Test
    void dialoguesAreDeterministicAndAskOnlyAboutStatedFacts() {
        List<ChatMessage> a = new SyntheticDialogues(5).longDialogue(4, 3);
        assertEquals(a, new SyntheticDialogues(5).longDialogue(4, 3));
        for (List<ChatMessage> d : List.of(a, new SyntheticDialogues(6).longDialogue(8, 1))) {
            java.util.Set<String> stated = new java.util.HashSet<>();
            int questions = 0;
            for (int i = 0; i + 1 < d.size(); i += 2) {
                String user = d.get(i).content();
                String reply = d.get(i + 1).content();
                if (reply.startsWith("your ") || reply.contains(" your ")) {
                    String fact = reply.substring(reply.indexOf("your "));
                    if (user.contains(fact.replace("your", "my"))) {
                        assertTrue(stated.add(fact), "a key is stated once: " + fact);
                    } else {
                        questions++;
                        assertTrue(stated.contains(fact), "answered from a stated fact: " + fact + " in " + stated);
                    }
                }
            }
            assertTrue(questions > 0);
        }
    }

    @Test
    void relatedFactsSharePeopleAndAttributesButNeverAKey() {
        SyntheticDialogues gen = new SyntheticDialogues(11);
        for (int i = 0; i < 200; i++) {
            int n = 2 + i % 3;
            List<SyntheticDialogues.Fact> fs = gen.relatedFacts(n);
            assertEquals(n, fs.size());
            assertEquals(n, fs.stream().map(SyntheticDialogues.Fact::key).distinct().count(), "distinct keys " + fs);
            long people = fs.stream().map(f -> String.valueOf(f.person())).distinct().count();
            long attributes = fs.stream().map(f -> f.attribute().words()).distinct().count();
            // n distinct keys from a grid of 2 people x max(2, (n+1)/2) attributes: from 3 facts on, some person or
            // some attribute is always shared (2 facts may be the grid's diagonal)
            assertTrue(people <= 2 && attributes <= Math.max(2, (n + 1) / 2), fs.toString());
            assertTrue(n < 3 || people < n || attributes < n, fs.toString());
        }
    }

    @Test
    void sameAttributeFactsAreOneAttributeOfDifferentPeople() {
        SyntheticDialogues gen = new SyntheticDialogues(12);
        for (int i = 0; i < 200; i++) {
            int n = 1 + i % 20;
            List<SyntheticDialogues.Fact> fs = gen.sameAttributeFacts(n);
            assertEquals(n, fs.size());
            assertEquals(1, fs.stream().map(f -> f.attribute().words()).distinct().count(), fs.toString());
            assertEquals(n, fs.stream().map(f -> String.valueOf(f.person())).distinct().count(), fs.toString());
        }
        assertThrows(IllegalArgumentException.class, () -> gen.sameAttributeFacts(21)); // 19 people and the user
        assertThrows(IllegalArgumentException.class, () -> gen.sameAttributeFacts(0));
    }

    @Test
    void drillsWithSameAttributeNegativesAskEachRememberedFact() {
        SyntheticDialogues gen = new SyntheticDialogues(13);
        SyntheticDialogues.MemoryDrill drill = gen.memoryDrill(4, SyntheticDialogues.Negatives.SAME_ATTRIBUTE);
        List<String> stated = drill.stated().stream().filter(t -> t.message().role().equals("user"))
                .map(t -> t.message().content()).toList();
        assertEquals(4, stated.size());
        java.util.Set<String> attributes = new java.util.HashSet<>();
        for (String s : stated) {
            String key = s.substring(s.lastIndexOf("my "), s.lastIndexOf(" is ")); // "my sister's city", "my city"
            attributes.add(key.contains("'s ") ? key.substring(key.indexOf("'s ") + 3) : key.substring(3));
            assertTrue(drill.asked().stream().anyMatch(t -> t.message().role().equals("user")
                    && (t.message().content().contains(key + "?") || t.message().content().contains(key + "."))),
                    "asked about " + key);
        }
        assertEquals(1, attributes.size(), stated.toString());
    }

    @Test
    void withWindowOwnersTheWindowsFactsAreTheRememberedAttributeOfOtherPeople() {
        SyntheticDialogues gen = new SyntheticDialogues(14, true);
        SyntheticDialogues.MemoryDrill drill = gen.memoryDrill(3, SyntheticDialogues.Negatives.SAME_ATTRIBUTE);
        List<String> remembered = userStatements(drill.stated());
        List<String> window = userStatements(drill.asked());
        assertEquals(3, remembered.size());
        assertEquals(2, window.size(), drill.asked().toString());
        java.util.Set<String> attributes = new java.util.HashSet<>();
        java.util.Set<String> owners = new java.util.HashSet<>();
        for (String s : java.util.stream.Stream.concat(remembered.stream(), window.stream()).toList()) {
            String key = s.substring(s.lastIndexOf("my ") + 3, s.lastIndexOf(" is ")); // "sister's city", "city"
            int at = key.indexOf("'s ");
            owners.add(at < 0 ? "" : key.substring(0, at));
            attributes.add(at < 0 ? key : key.substring(at + 3));
        }
        assertEquals(1, attributes.size(), remembered + " " + window);
        assertEquals(5, owners.size(), "five different people: " + remembered + " " + window);
    }

    @Test
    void reverseQuestionsAskByAValueOnlyOneFactHasAndAreAnsweredWithItsOwner() {
        for (int seed = 0; seed < 20; seed++) {
            assertEquals(new SyntheticDialogues(seed).memoryDrill(3, SyntheticDialogues.Negatives.SAME_ATTRIBUTE),
                    new SyntheticDialogues(seed, false, 0).memoryDrill(3, SyntheticDialogues.Negatives.SAME_ATTRIBUTE),
                    "share 0 draws the data as before");
        }
        int reverse = 0;
        for (int seed = 0; seed < 20; seed++) {
            SyntheticDialogues.MemoryDrill drill = new SyntheticDialogues(seed, false, 1)
                    .memoryDrill(4, SyntheticDialogues.Negatives.SAME_ATTRIBUTE);
            List<String> stated = userStatements(drill.stated());
            List<String> answers = drill.asked().stream().filter(t -> t.message().role().equals("assistant"))
                    .map(t -> t.message().content()).toList();
            for (String told : stated) {
                // "my aunt's car is kia." -> value "kia", reverse answer "kia is your aunt's car."
                String fact = told.substring(told.lastIndexOf("my "));
                String value = fact.substring(fact.lastIndexOf(" is ") + 4, fact.length() - 1);
                String reversed = value + " is your" + fact.substring(2, fact.lastIndexOf(" is ")) + ".";
                long sameValue = stated.stream().filter(o -> o.endsWith(" is " + value + ".")).count();
                if (answers.contains(reversed)) {
                    reverse++;
                    assertEquals(1, sameValue, "asked by a value two facts share: " + stated);
                } else {
                    assertTrue(answers.contains("your" + fact.substring(2).replace("my ", "your ")) || sameValue > 1,
                            "asked neither way: " + fact + " in " + answers);
                }
            }
        }
        assertTrue(reverse > 40, "most facts are asked by value at share 1: " + reverse);
    }

    private static List<String> userStatements(List<SyntheticDialogues.Turn> turns) {
        return turns.stream().filter(t -> t.message().role().equals("user") && t.message().content().contains(" is ")
                && !t.message().content().startsWith("is ") && !t.message().content().endsWith("?"))
                .map(t -> t.message().content()).toList();
    }

    @Test
    void smallTalkUsesNoFactWord() {
        SyntheticDialogues gen = new SyntheticDialogues(3);
        java.util.Set<String> factWords = new java.util.HashSet<>(SyntheticDialogues.PEOPLE);
        SyntheticDialogues.ATTRIBUTES.forEach(x -> {
            factWords.addAll(List.of(x.words().split(" ")));
            factWords.addAll(x.values());
        });
        for (int i = 0; i < 500; i++) {
            for (ChatMessage m : gen.smallTalk()) {
                for (String w : m.content().split("[^a-z0-9]+")) {
                    assertTrue(!factWords.contains(w), "fact word '" + w + "' in small talk: " + m.content());
                }
            }
        }
    }

    @Test
    void theWordPieceTokenizerCoversTheDialoguesAndDecodesThem() throws Exception {
        WordPieceVocabularyWriter.write(tmp, SyntheticDialogues.vocabulary());
        try (TextTokenizer tok = Tokenizers.open(tmp)) {
            ChatTemplate template = ChatTemplate.open(tmp);
            String text = TrainingData.render(new SyntheticDialogues(9).longDialogue(4, 4), java.util.Optional.of(template));
            int[] ids = tok.encode(text, false);
            for (int id : ids) {
                assertTrue(id != 0, "no <unk> in " + text);
            }
            assertEquals("my sister's lucky number is 47.", tok.decode(tok.encode("my sister's lucky number is 47.", false), true));
            assertEquals(1, tok.encode("47", false).length, "a value is one token");
            assertEquals(tok.encode("my sister's city is lisbon.", false).length,
                    tok.encode("My Sister's city is LISBON.", false).length, "input is lower-cased");
            assertEquals(2, tok.encode("</s>", false)[0]);
            assertTrue(ids.length < text.split(" ").length * 1.3, "about one token per word");
        }
    }
}
