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

    private static TrainDemoCommand trainDemo(String... args) {
        TrainDemoCommand c = new TrainDemoCommand();
        new picocli.CommandLine(c).parseArgs(args);
        return c;
    }

    @Test
    void trainDemoRefusesToOverwriteAModelUnlessForced() throws Exception {
        Path out = tmp.resolve("shipped");
        Files.createDirectories(out);
        Files.writeString(out.resolve("config.json"), "{}");
        CliTest.Outcome o = CliTest.run("train-demo", "--out", out.toString());
        assertTrue(o.exitCode() != 0, o.stderr());
        assertEquals("error: --out " + out + " already holds a model or an earlier run: pass --force to overwrite it, --resume to "
                + "continue its run, or another --out", o.stderr().strip());
        try (var files = Files.list(out)) {
            assertEquals(List.of(out.resolve("config.json")), files.toList(), "nothing written or deleted");
        }
        // --force passes the check (called directly: a full run trains for many minutes); an empty or new --out too
        trainDemo("--out", out.toString(), "--force").runDirectory().checkOut();
        trainDemo("--out", tmp.resolve("new").toString()).runDirectory().checkOut();
    }

    @Test
    void trainDemoResumeRefusesOptionsOtherThanTheRunsNamingTheOption() throws Exception {
        Path out = tmp.resolve("run");
        Files.createDirectories(out.resolve("stage1").resolve("checkpoint"));
        TrainDemoCommand first = trainDemo("--out", out.toString(), "--seed", "7", "--pretrain-steps", "20");
        new com.fasterxml.jackson.databind.ObjectMapper().writeValue(
                out.resolve(TrainDemoRunDirectory.OPTIONS_FILE).toFile(), first.options.trainingOptions());
        CliTest.Outcome o = CliTest.run("train-demo", "--out", out.toString(), "--resume", "--seed", "8",
                "--pretrain-steps", "20");
        assertTrue(o.exitCode() != 0, o.stderr());
        assertEquals("error: --resume with --seed 8, but the run in " + out + " used 7: resume with the same options",
                o.stderr().strip());
        // the same options resume (--keep-intermediate and --eval-facts do not change what is trained)
        trainDemo("--out", out.toString(), "--resume", "--seed", "7", "--pretrain-steps", "20", "--eval-facts", "0")
                .runDirectory().checkOut();
        // a longer stage may be asked for on resume (it continues to the new count)
        trainDemo("--out", out.toString(), "--resume", "--seed", "7", "--pretrain-steps", "40").runDirectory().checkOut();
        // and without --resume, the interrupted run is not overwritten either
        o = CliTest.run("train-demo", "--out", out.toString(), "--seed", "7");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("pass --force"), o.stderr());
        assertTrue(Files.isDirectory(out.resolve("stage1").resolve("checkpoint")));
    }

    @Test
    void trainDemoResumeRefusesAFinishedModelWithNothingToContinue() throws Exception {
        Path out = tmp.resolve("finished");
        Files.createDirectories(out);
        Files.writeString(out.resolve("config.json"), "{}"); // a model, as a finished run leaves it (no stage1, no checkpoint)
        CliTest.Outcome o = CliTest.run("train-demo", "--out", out.toString(), "--resume");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("no run to continue"), o.stderr());
        assertEquals("{}", Files.readString(out.resolve("config.json")));
    }

    @Test
    void trainNamesTheFileAndLineOfADialogueWithoutRoles() throws Exception {
        Path data = tmp.resolve("sharegpt.jsonl");
        Files.write(data, List.of(TrainingData.jsonl(List.of(dev.memlong.runtime.tokenizer.ChatMessage.user("hi"))),
                "{\"messages\": [{\"from\": \"human\", \"value\": \"hi\"}]}"));
        CliTest.Outcome o = CliTest.run("train", "--model", model().toString(), "--data", data.toString(), "--out",
                tmp.resolve("out").toString(), "--steps", "1", "--retriever", "bag-of-words");
        assertTrue(o.exitCode() != 0, o.stderr());
        assertEquals("error: " + data + ":2: message 1 needs a \"role\" of system, user or assistant, got none",
                o.stderr().strip());
    }

    @Test
    void benchTrainRefusesZeroStepsBeforeBuildingAnything() {
        Path data = tmp.resolve("bench-data");
        CliTest.Outcome o = CliTest.run("bench", "train", "--data", data.toString(), "--steps", "0");
        assertTrue(o.exitCode() != 0, o.stderr());
        assertEquals("error: --steps must be at least 1, got 0", o.stderr().strip());
        o = CliTest.run("bench", "train", "--data", data.toString(), "--sequence", "300");
        assertTrue(o.exitCode() != 0 && o.stderr().contains("--sequence must be a multiple of 256"), o.stderr());
        assertTrue(!Files.exists(data), "no checkpoint built");
    }

    @Test
    void aFailedBenchTrainChildShowsTheEndOfItsStderr() throws Exception {
        BenchTrainCommand c = new BenchTrainCommand();
        new picocli.CommandLine(c).parseArgs();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        // an unknown mode fails in the child at once, before any model is loaded
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> c.child("no-such-mode", tmp, new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains("failed (exit 1); the end of its stderr is above"), e.getMessage());
        String relayed = err.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(relayed.contains("no-such-mode: ") && relayed.contains("Exception"), relayed);
        assertEquals(List.of("c", "d"), BenchTrainCommand.lastLines("a\nb\n\nc\nd\n", 2));
    }
}
