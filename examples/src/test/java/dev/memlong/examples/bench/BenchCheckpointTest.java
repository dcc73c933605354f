package dev.memlong.examples.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generated checkpoint is one our runtime loads, in a tiny shape. */
class BenchCheckpointTest {

    private static final ModelShape TINY = new ModelShape(400, 32, 2, 4, 2, 48, true);

    @TempDir
    Path tmp;

    @Test
    void writesACheckpointOurRuntimeLoads() {
        Path dir = BenchCheckpoint.ensure(tmp.resolve("bench/tiny"), TINY, 7, line -> {});
        try (LlamaModel model = LlamaModel.load(dir)) {
            assertEquals(TINY.parameters(), model.parameterCount());
            assertEquals(400, model.config().vocabSize());
            float[][] logits = model.forwardLogits(BenchPrompt.ids(5, 400, 1));
            assertEquals(5, logits.length);
            assertEquals(400, logits[0].length);
            for (float v : logits[4]) {
                assertTrue(Float.isFinite(v));
            }
        }
        try (TextTokenizer tokenizer = Tokenizers.open(dir)) {
            int[] ids = tokenizer.encode("abc d", true);
            assertEquals(BenchTokenizer.BOS, ids[0]);
            assertEquals("abc d", tokenizer.decode(ids, true));
        }
    }

    @Test
    void reusesACompleteCheckpointAndLeavesNoTemporaryDirectories() throws IOException {
        Path dir = tmp.resolve("bench/tiny");
        BenchCheckpoint.ensure(dir, TINY, 7, line -> {});
        long written = Files.getLastModifiedTime(dir.resolve("model.safetensors")).toMillis();
        List<String> log = new ArrayList<>();
        BenchCheckpoint.ensure(dir, TINY, 7, log::add);
        assertTrue(log.isEmpty(), "a complete checkpoint is reused: " + log);
        assertEquals(written, Files.getLastModifiedTime(dir.resolve("model.safetensors")).toMillis());
        try (Stream<Path> siblings = Files.list(dir.getParent())) {
            assertEquals(List.of(dir.getFileName().toString()), siblings.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void rebuildsAnIncompleteCheckpoint() throws IOException {
        Path dir = tmp.resolve("bench/tiny");
        BenchCheckpoint.ensure(dir, TINY, 7, line -> {});
        Files.delete(dir.resolve("model.safetensors"));
        List<String> log = new ArrayList<>();
        BenchCheckpoint.ensure(dir, TINY, 7, log::add);
        assertFalse(log.isEmpty());
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
    }

    @Test
    void tokenizerHasExactlyTheVocabulary() {
        var json = BenchTokenizer.tokenizerJson(new com.fasterxml.jackson.databind.ObjectMapper(), 32000);
        assertEquals(32000, json.path("model").path("vocab").size());
        assertArrayEquals(new int[] {1, 2}, new int[] {json.path("model").path("vocab").path("<s>").asInt(),
            json.path("model").path("vocab").path("</s>").asInt()});
    }
}
