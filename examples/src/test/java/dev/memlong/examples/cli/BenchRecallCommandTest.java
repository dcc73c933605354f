package dev.memlong.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recall benchmark's mechanics on the fixture model (which was never trained on facts, so only the shape of
 * the report is checked here; the demo model's recall is asserted in DemoModelRecallTest).
 */
class BenchRecallCommandTest {

    @TempDir
    Path tmp;

    @Test
    void reportsAccuracyPerDistanceRetrievalAndPerplexityAndWritesAPlot() throws Exception {
        Path model = Paths.get(System.getProperty("memlong.fixtures", "../fixtures")).resolve("hf-tiny-llama");
        Path png = tmp.resolve("recall.png");
        CliTest.Outcome o = CliTest.run("bench", "recall", "--model", model.toString(), "--distances", "2500,2100",
                "--facts", "2", "--ppl-rounds", "2", "--plot", png.toString(), "--json", "--show-misses");
        assertEquals(0, o.exitCode(), o.stderr());
        JsonNode json = o.json();
        // the fixture model never saw a fact: its misses are logged with their retrieval
        assertTrue(o.stderr().contains("miss: told \"") && o.stderr().contains("; query \"")
                && o.stderr().contains("value the window"), o.stderr());
        for (String key : new String[] {"accuracy_memory", "accuracy_window_only", "retrieval_hit_rate", "misread_rate"}) {
            assertEquals(2, json.get(key).size(), key);
            double v = json.get(key).get("2100").asDouble(-1);
            assertTrue(v >= 0 && v <= 1, key + " " + v);
        }
        for (String d : new String[] {"2100", "2500"}) { // a misread is a wrong answer
            assertTrue(json.get("misread_rate").get(d).asDouble() + json.get("accuracy_memory").get(d).asDouble() <= 1,
                    json.toString());
            // an owner misread (the asked attribute, someone else's value) is one kind of misread
            assertTrue(json.get("owner_misread_rate").get(d).asDouble() <= json.get("misread_rate").get(d).asDouble(),
                    json.toString());
            // right answers among retrieved facts: a share, or NaN when no fact's chunk was retrieved
            String whenRetrieved = json.get("accuracy_when_retrieved").get(d).asText();
            assertTrue(json.get("retrieval_hit_rate").get(d).asDouble() == 0 ? whenRetrieved.equals("NaN")
                    : Double.parseDouble(whenRetrieved) >= 0 && Double.parseDouble(whenRetrieved) <= 1, json.toString());
        }
        assertTrue(json.get("history_tokens").asLong() >= 2500);
        assertEquals(0.5, json.get("lexical_weight").asDouble(), "the runtime's default retriever blend");
        for (String key : new String[] {"ppl_memory", "ppl_window_only", "ppl_assistant_memory", "ppl_assistant_window_only"}) {
            double ppl = json.get(key).asDouble();
            assertTrue(ppl > 1 && Double.isFinite(ppl), key + " " + ppl);
        }
        assertTrue(Files.size(png) > 1000);

        CliTest.Outcome bad = CliTest.run("bench", "recall", "--model", model.toString(), "--facts", "0");
        assertTrue(bad.exitCode() != 0 && bad.stderr().contains("--facts"), bad.stderr());
        bad = CliTest.run("bench", "recall", "--model", model.toString(), "--lexical-weight", "2");
        assertTrue(bad.exitCode() != 0 && bad.stderr().contains("--lexical-weight must be in [0, 1], got 2"), bad.stderr());
        CliTest.Outcome near = CliTest.run("bench", "recall", "--model", model.toString(), "--distances", "100");
        assertTrue(near.exitCode() != 0 && near.stderr().contains("at least the local window (2048"), near.stderr());
    }
}
