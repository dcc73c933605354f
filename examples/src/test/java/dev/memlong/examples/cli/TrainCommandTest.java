package dev.memlong.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.examples.train.SyntheticDialogues;
import dev.memlong.examples.train.TrainingData;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.train.TrainedCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** memlong train on the fixture model: LoRA with memory from JSONL dialogues, resume, and the written artefacts. */
class TrainCommandTest {

    @TempDir
    Path tmp;

    private static Path model() {
        return Paths.get(System.getProperty("memlong.fixtures", "../fixtures")).resolve("hf-tiny-llama");
    }

    @Test
    void loraFineTuningWithMemoryWritesALoadableModelALossPlotAndResumes() throws Exception {
        SyntheticDialogues gen = new SyntheticDialogues(3);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            lines.add(TrainingData.jsonl(gen.longDialogue(1, 2)));
        }
        Path data = tmp.resolve("d.jsonl");
        Files.write(data, lines);
        Path out = tmp.resolve("out");
        String[] common = {"train", "--model", model().toString(), "--data", data.toString(), "--out", out.toString(),
            "--mode", "lora", "--lora-rank", "4", "--segment", "16", "--chunk-size", "8", "--top-k", "2",
            "--batch", "2", "--workers", "2", "--retriever", "bag-of-words", "--lr", "1e-3", "--warmup", "1",
            "--checkpoint-every", "2", "--memory-layer", "1", "--retrieval-layers", "1,3"};
        CliTest.Outcome first = CliTest.run(concat(common, "--steps", "2"));
        assertEquals(0, first.exitCode(), first.stderr());
        assertTrue(first.stderr().contains("step 2/2"), "progress line: " + first.stderr());
        CliTest.Outcome resumed = CliTest.run(concat(common, "--steps", "4", "--resume", out.resolve("checkpoint").toString()));
        assertEquals(0, resumed.exitCode(), resumed.stderr());
        JsonNode json = resumed.json();
        assertEquals(4, json.get("steps").asInt(), "steps 1-2 restored, 3-4 trained");
        assertTrue(Files.size(out.resolve("loss.png")) > 1000);
        assertEquals("1", TrainedCheckpoint.metadata(out.resolve("model.safetensors")).get("memory_layer"));
        try (LlamaModel m = LlamaModel.load(out)) {
            assertEquals(model().resolve("config.json").toFile().exists(), true);
            assertTrue(m.forwardLogits(new int[] {1, 2, 3}).length == 3);
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void trainDemoRefusesAnInvalidMemorySpanBeforeWritingAnything() throws Exception {
        Path out = tmp.resolve("demo");
        CliTest.Outcome o = CliTest.run("train-demo", "--out", out.toString(), "--pretrain-memory-segments", "0");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--pretrain-memory-segments must be 1 to 8, got 0"), o.stderr());
        assertTrue(!Files.exists(out), "nothing written");
    }

    @Test
    void trainDemoRefusesAPositionSpreadBeyondTheWindowBeforeWritingAnything() {
        Path out = tmp.resolve("demo2");
        CliTest.Outcome o = CliTest.run("train-demo", "--out", out.toString(), "--position-spread", "129");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--position-spread must be 0 to 128"), o.stderr());
        o = CliTest.run("train-demo", "--out", out.toString(), "--chunk", "48");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--chunk must divide 128"), o.stderr());
        o = CliTest.run("train-demo", "--out", out.toString(), "--value-weight", "0");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--value-weight must be finite and > 0, got 0"), o.stderr());
        o = CliTest.run("train-demo", "--out", out.toString(), "--kv-heads", "3"); // 4 heads of 32 in 128
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--kv-heads must divide the heads (4)"), o.stderr());
        o = CliTest.run("train-demo", "--out", out.toString(), "--train-top-k", "-1");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--train-top-k must be 0 (= --top-k) or positive"), o.stderr());
        o = CliTest.run("train-demo", "--out", out.toString(), "--lexical-weight", "1.5");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--lexical-weight must be in [0, 1], got 1.5"), o.stderr());
        o = CliTest.run("train-demo", "--out", out.toString(), "--window", "96");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--window must be a multiple of twice --chunk (64"), o.stderr());
        o = CliTest.run("train-demo", "--out", out.toString(), "--window", "512");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("at most 256, got 512"), o.stderr());
        o = CliTest.run("train-demo", "--out", out.toString(), "--reverse-questions", "2");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--reverse-questions must be in [0, 1], got 2"), o.stderr());
        assertTrue(!Files.exists(out), "nothing written");
    }
}
