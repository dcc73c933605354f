package dev.memlong.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** How the recall check reads an answer and a retrieved chunk, and the facts it asks about. */
class RecallCheckTest {

    @Test
    void theAnsweredValueIsWhatFollowsTheLastIs() {
        assertEquals("kia", RecallCheck.answeredValue("your boss's car is kia."));
        assertEquals("63", RecallCheck.answeredValue(" your coach's lucky number is 63. "));
        assertEquals("rome", RecallCheck.answeredValue("this is what i know: your city is rome"));
        assertEquals("", RecallCheck.answeredValue("i do not know."));
    }

    @Test
    void valuesMatchWholeWordsOnly() {
        assertTrue(RecallCheck.containsWord("okay, your dog is Max.", "max"));
        assertFalse(RecallCheck.containsWord("your dog is maximilian.", "max"));
        assertFalse(RecallCheck.containsWord("the number is 630.", "63"));
    }

    private static final SyntheticDialogues.Attribute CITY = SyntheticDialogues.ATTRIBUTES.get(1);

    @Test
    void aChunkHoldsAFactOnlyWithItsOwnOwner() {
        SyntheticDialogues.Fact mine = new SyntheticDialogues.Fact(null, CITY, "rome");
        SyntheticDialogues.Fact mother = new SyntheticDialogues.Fact("mother", CITY, "oslo");
        assertTrue(RecallCheck.holdsFact("noted. my city is rome. tell me", mine));
        assertTrue(RecallCheck.holdsFact("okay, your city is rome.", mine), "the acknowledgement holds it too");
        assertFalse(RecallCheck.holdsFact("remember : my boss ' s city is rome.", mine), "the boss's city");
        assertTrue(RecallCheck.holdsFact("by the way, my mother ' s city is oslo.", mother));
        assertFalse(RecallCheck.holdsFact("my grandmother's city is oslo.", mother), "the grandmother's city");
        assertFalse(RecallCheck.holdsFact("my mother's city is oslo", new SyntheticDialogues.Fact("mother", CITY,
                "os")), "a value is a whole word");
    }

    @Test
    void anAnswerMustNameTheOwnerTheAttributeAndTheValue() {
        SyntheticDialogues.Fact sister = new SyntheticDialogues.Fact("sister", CITY, "lisbon");
        assertTrue(RecallCheck.answers("your sister's city is lisbon.", sister));
        assertTrue(RecallCheck.answers(" your sister ' s city is lisbon. ", sister), "the tokenizer's spacing");
        assertFalse(RecallCheck.answers("your brother's city is lisbon.", sister), "right value, wrong person");
        assertFalse(RecallCheck.answers("your grandsister's city is lisbon.", sister));
        assertFalse(RecallCheck.answers("your sister's city is lisbonia.", sister));
        assertFalse(RecallCheck.answers("lisbon.", sister), "the value alone");
    }

    @Test
    void distinctFactsShareNeitherKeyNorAttributeValue() {
        List<SyntheticDialogues.Fact> facts = new SyntheticDialogues(20261126).distinctFacts(100);
        Set<String> keys = new HashSet<>();
        Set<String> values = new HashSet<>();
        for (SyntheticDialogues.Fact f : facts) {
            assertTrue(keys.add(f.key()), "key " + f.key());
            assertTrue(values.add(f.attribute().words() + "=" + f.value()), "value " + f.value());
        }
        assertEquals(100, facts.size());
    }
}
