package dev.memlong.examples.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import dev.memlong.runtime.train.SlotStreams;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory drills on segment boundaries: every asked fact is stated only in the segments before the questions, and the
 * answers are trained.
 */
class MemoryDrillDocumentsTest {

    @TempDir
    Path tmp;
    private TextTokenizer tok;
    private ChatTemplate template;

    @BeforeEach
    void openTheDemoTokenizer() throws Exception {
        WordPieceVocabularyWriter.write(tmp, SyntheticDialogues.vocabulary());
        tok = Tokenizers.open(tmp);
        template = ChatTemplate.open(tmp);
    }

    @AfterEach
    void close() {
        tok.close();
    }

    private static final Pattern ANSWER = Pattern.compile("<\\|user\\|> [^<]* </s> <\\|assistant\\|> your ([a-z' ]+) is ([a-z0-9]+)\\.");

    @Test
    void factsFillTheFirstSegmentAndOnlyMemoryHoldsWhatIsAsked() throws Exception {
        int segment = 256;
        MemoryDrillDocuments layout = new MemoryDrillDocuments(tok, Optional.of(template), segment);
        SyntheticDialogues gen = new SyntheticDialogues(11);
        int memoryAnswers = 0;
        for (int i = 0; i < 30; i++) {
            int[] doc = layout.document(gen.memoryDrill(2 + i % 6), 2);
            assertTrue(doc.length > segment && doc.length <= 3 * segment, "one stated segment, up to two asked");
            int[] ids = Arrays.stream(doc).map(SlotStreams::id).toArray();
            String stated = tok.decode(Arrays.copyOfRange(ids, 0, segment), false);
            String asked = tok.decode(Arrays.copyOfRange(ids, segment, ids.length), false);
            Matcher m = ANSWER.matcher(asked);
            while (m.find()) {
                String fact = "my " + m.group(1) + " is " + m.group(2);
                String before = asked.substring(0, m.start());
                if (!before.contains(fact)) { // not one of the two facts stated in the window
                    assertTrue(stated.contains(fact), "asked fact stated in the first segment: " + fact);
                    assertFalse(before.contains("your " + m.group(1) + " is"), "each fact asked once: " + fact);
                    memoryAnswers++;
                }
            }
            // the user's words are context only; the assistant's answers are trained on
            int firstAsked = segment;
            while (firstAsked < doc.length && doc[firstAsked] < 0) {
                firstAsked++;
            }
            assertTrue(firstAsked < doc.length, "something in the asked part is trained on");
            assertFalse(Arrays.stream(doc, segment, doc.length).allMatch(x -> x >= 0), "questions are context");
        }
        assertTrue(memoryAnswers >= 100, "about one memory answer per fact (30 drills of 2-7): " + memoryAnswers);
    }

    @Test
    void retrievalDrillsSpreadRelatedFactsOverSeveralSegmentsBeforeAnyQuestion() throws Exception {
        int segment = 128;
        MemoryDrillDocuments layout = new MemoryDrillDocuments(tok, Optional.of(template), segment);
        SyntheticDialogues gen = new SyntheticDialogues(12);
        for (int i = 0; i < 20; i++) {
            int facts = 4 + i % 9;
            SyntheticDialogues.MemoryDrill drill = gen.retrievalDrill(facts);
            int statedSegments = (layout.statedTokens(drill) + segment - 1) / segment;
            int[] doc = layout.document(drill, statedSegments, 4);
            int room = statedSegments * segment;
            assertTrue(facts < 8 || statedSegments >= 2, facts + " facts in " + statedSegments + " segment(s)");
            int[] ids = Arrays.stream(doc).map(SlotStreams::id).toArray();
            String stated = tok.decode(Arrays.copyOfRange(ids, 0, room), false);
            String asked = tok.decode(Arrays.copyOfRange(ids, room, ids.length), false);
            assertFalse(stated.contains("what is") || stated.contains("remind me"), "no question before the asked part");
            Matcher m = ANSWER.matcher(asked);
            int fromMemory = 0;
            while (m.find()) {
                String fact = "my " + m.group(1) + " is " + m.group(2);
                if (!asked.substring(0, m.start()).contains(fact)) {
                    assertTrue(stated.contains(fact), "asked fact stated before: " + fact);
                    fromMemory++;
                }
            }
            assertTrue(fromMemory >= Math.min(facts, 6), fromMemory + " of " + facts + " asked in the first 4 segments");
        }
    }

    @Test
    void drillsAreDeterministic() {
        assertEquals(new SyntheticDialogues(4).memoryDrill(3), new SyntheticDialogues(4).memoryDrill(3));
    }
}
