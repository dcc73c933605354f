package dev.memlong.examples.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The memlong CLI's documented JSON, checked against the transformers reference of the fixture model. */
class CliTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static Path model;
    private static JsonNode reference;

    record Outcome(int exitCode, String stdout, String stderr) {
        JsonNode json() throws IOException {
            return JSON.readTree(stdout);
        }
    }

    @BeforeAll
    static void fixtures() throws IOException {
        model = Paths.get(System.getProperty("memlong.fixtures", "../fixtures")).resolve("hf-tiny-llama");
        reference = JSON.readTree(model.resolve("reference.json").toFile());
    }

    static synchronized Outcome run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = MemLongCli.run(args);
            return new Outcome(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    private static String csv(JsonNode a) {
        StringBuilder sb = new StringBuilder();
        a.forEach(x -> sb.append(sb.isEmpty() ? "" : ",").append(x.asInt()));
        return sb.toString();
    }

    @Test
    void tokenizeGivesTransformersIds() throws IOException {
        JsonNode c = reference.get("cases").get(2);
        Outcome r = run("tokenize", "--model", model.toString(), "--text", c.get("text").asText());
        assertEquals(0, r.exitCode(), r.stderr());
        assertArrayEquals(ints(c.get("ids")), ints(r.json().get("ids")));
    }

    @Test
    void logitsGivesOneRowPerPosition() throws IOException {
        JsonNode c = reference.get("cases").get(0);
        Outcome r = run("logits", "--model", model.toString(), "--ids", csv(c.get("ids")));
        assertEquals(0, r.exitCode(), r.stderr());
        JsonNode rows = r.json().get("logits");
        assertEquals(c.get("logits").size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            for (int j = 0; j < rows.get(i).size(); j++) {
                assertEquals(c.get("logits").get(i).get(j).asDouble(), rows.get(i).get(j).asDouble(), 1e-4);
            }
        }
    }

    @Test
    void greedyGenerateFromIdsAndFromPromptMatchesTransformers() throws IOException {
        JsonNode c = reference.get("cases").get(1);
        Outcome byIds = run("generate", "--model", model.toString(), "--ids", csv(c.get("ids")),
                "--max-new-tokens", "24", "--greedy");
        assertEquals(0, byIds.exitCode(), byIds.stderr());
        assertArrayEquals(ints(c.get("greedy")), ints(byIds.json().get("ids")));
        Outcome byPrompt = run("generate", "--model", model.toString(), "--prompt", c.get("text").asText(),
                "--max-new-tokens", "24", "--greedy");
        assertArrayEquals(ints(c.get("greedy")), ints(byPrompt.json().get("ids")));
        assertTrue(byPrompt.json().get("text").isTextual());
    }

    /** Over a bfloat16 KV cache the fixture's greedy continuation is still transformers' (float32) one. */
    @Test
    void greedyGenerateOverABfloat16CacheMatchesTransformers() throws IOException {
        JsonNode c = reference.get("cases").get(1);
        Outcome r = run("generate", "--model", model.toString(), "--ids", csv(c.get("ids")), "--max-new-tokens", "24",
                "--greedy", "--kv-cache-dtype", "bfloat16");
        assertEquals(0, r.exitCode(), r.stderr());
        assertArrayEquals(ints(c.get("greedy")), ints(r.json().get("ids")));
    }

    /** bfloat16 compute aborted the JVM inside DJL; now it is refused with the reason, and so are bad values. */
    @Test
    void unsupportedDtypesAreRefusedWithTheReason() {
        Outcome r = run("logits", "--model", model.toString(), "--ids", "1,2,3", "--dtype", "bfloat16");
        assertTrue(r.exitCode() != 0);
        assertTrue(r.stderr().contains("DJL"), r.stderr());
        r = run("logits", "--model", model.toString(), "--ids", "1,2,3", "--kv-cache-dtype", "int8");
        assertTrue(r.exitCode() != 0);
        assertTrue(r.stderr().contains("int8"), r.stderr());
        r = run("bench", "kv-cache", "--context", "0");
        assertTrue(r.exitCode() != 0);
        assertTrue(r.stderr().contains("--context"), r.stderr());
    }

    @Test
    void seededSamplingIsReproducible() throws IOException {
        String[] args = {"generate", "--model", model.toString(), "--prompt", "Licensed under", "--max-new-tokens", "16",
            "--temperature", "0.9", "--top-p", "0.9", "--seed", "11"};
        assertEquals(run(args).json(), run(args).json());
    }

    @Test
    void chatTemplateRendersAsTransformers(@TempDir Path dir) throws IOException {
        JsonNode chat = reference.get("chat").get(0);
        Path messages = dir.resolve("messages.json");
        Files.writeString(messages, chat.get("messages").toString());
        Outcome r = run("chat-template", "--model", model.toString(), "--messages", messages.toString(),
                "--add-generation-prompt");
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(chat.get("rendered").asText(), r.json().get("text").asText());
        assertArrayEquals(ints(chat.get("ids")), ints(r.json().get("ids")));
    }

    @Test
    void badInputExitsNonZeroWithOneLineError(@TempDir Path dir) throws IOException {
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{not json");
        String[][] cases = {
            {"generate", "--model", dir.resolve("missing").toString(), "--ids", "1", "--max-new-tokens", "2"},
            {"generate", "--model", model.toString(), "--ids", "1,x", "--max-new-tokens", "2"},
            {"generate", "--model", model.toString(), "--ids", "1,100000", "--max-new-tokens", "2"},
            {"generate", "--model", model.toString(), "--max-new-tokens", "2"},
            {"logits", "--model", model.toString()},
            {"chat-template", "--model", model.toString(), "--messages", broken.toString()},
            {"tokenize", "--model", dir.toString(), "--text", "x"},
            {"no-such-command"},
        };
        for (String[] args : cases) {
            Outcome r = run(args);
            assertTrue(r.exitCode() != 0, String.join(" ", args) + " should fail");
            assertTrue(r.stdout().isEmpty(), "nothing on stdout for " + String.join(" ", args));
            String err = r.stderr().strip();
            // exactly one line, the error: no stack trace, no usage text after it
            assertEquals(1, err.lines().count(), "one line on stderr for " + String.join(" ", args) + ": " + err);
            assertTrue(err.startsWith("error: "), "one-line error for " + String.join(" ", args) + ": " + err);
        }
    }

    @Test
    void perplexityWithAWindowLongerThanTheTextEqualsTheDirectComputation(@TempDir Path dir) throws IOException {
        String text = reference.get("cases").get(0).get("text").asText() + " " + reference.get("cases").get(1).get("text").asText();
        Path file = dir.resolve("doc.txt");
        Files.writeString(file, text);
        Outcome r = run("perplexity", "--model", model.toString(), "--file", file.toString(), "--window", "256", "--no-memory");
        assertEquals(0, r.exitCode(), r.stderr());
        // direct: exp(mean NLL) from one full forward's logits
        try (var bundle = dev.memlong.runtime.bundle.ModelBundle.open(model)) {
            int[] ids = bundle.tokenizer().encode(text, true);
            float[][] logits = bundle.model().forwardLogits(ids);
            double sum = 0;
            for (int i = 1; i < ids.length; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (float l : logits[i - 1]) {
                    max = Math.max(max, l);
                }
                double z = 0;
                for (float l : logits[i - 1]) {
                    z += Math.exp(l - max);
                }
                sum += Math.log(z) + max - logits[i - 1][ids[i]];
            }
            double expected = Math.exp(sum / (ids.length - 1));
            assertEquals(expected, r.json().get("perplexity").asDouble(), expected * 1e-4);
            assertEquals(ids.length, r.json().get("tokens").asInt());
        }
    }

    @Test
    void generateWithAContextFileAnswersFromMemoryAndShowsRetrievals(@TempDir Path dir) throws IOException {
        StringBuilder doc = new StringBuilder();
        for (JsonNode c : reference.get("cases")) {
            doc.append(c.get("text").asText()).append("\n");
        }
        Path file = dir.resolve("context.txt");
        Files.writeString(file, doc.toString().repeat(12));
        Outcome r = run("generate", "--model", model.toString(), "--context-file", file.toString(), "--window", "64",
                "--prompt", "Apache License", "--max-new-tokens", "4", "--greedy", "--show-retrieval");
        assertEquals(0, r.exitCode(), r.stderr());
        JsonNode out = r.json();
        assertEquals(4, out.get("ids").size());
        assertTrue(out.get("memory_chunks").asInt() > 0, "the context overflowed the window into memory");
        JsonNode first = out.get("retrievals").get(0);
        assertTrue(first.get("chunks").size() > 0);
        assertTrue(first.get("chunks").get(0).get("text").isTextual());
    }

    @Test
    void convertedOpenLlamaStyleCheckpointGivesTheReferenceLogits(@TempDir Path dir) throws IOException {
        Path bin = model.resolveSibling("openllama-style-bin");
        Path out = dir.resolve("converted");
        Outcome r = run("convert", "--model", bin.toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(Files.exists(out.resolve("model.safetensors")));
        JsonNode c = JSON.readTree(bin.resolve("reference.json").toFile()).get("cases").get(0);
        Outcome tok = run("tokenize", "--model", out.toString(), "--text", c.get("text").asText());
        assertArrayEquals(ints(c.get("ids")), ints(tok.json().get("ids")));
        Outcome logits = run("logits", "--model", out.toString(), "--ids", csv(c.get("ids")));
        JsonNode rows = logits.json().get("logits");
        for (int i = 0; i < rows.size(); i++) {
            for (int j = 0; j < rows.get(i).size(); j++) {
                assertEquals(c.get("logits").get(i).get(j).asDouble(), rows.get(i).get(j).asDouble(), 1e-4);
            }
        }
        Outcome gen = run("generate", "--model", bin.toString(), "--ids", csv(c.get("ids")), "--max-new-tokens", "24", "--greedy");
        assertArrayEquals(ints(c.get("greedy")), ints(gen.json().get("ids")), "the pickle directory itself works too");
    }
}
