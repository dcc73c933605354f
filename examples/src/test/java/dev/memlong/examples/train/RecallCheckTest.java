package dev.memlong.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How the recall check reads an answer: the value it names, and whole-word matches. */
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
}
