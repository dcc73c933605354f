package dev.memlong.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.examples.train.MemoryDrillDocuments;
import dev.memlong.examples.train.SyntheticDialogues;
import dev.memlong.examples.train.TrainingData;
import dev.memlong.examples.train.TrainingJob;
import dev.memlong.examples.train.WordPieceVocabularyWriter;
import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.retriever.BgeSmallRetriever;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import dev.memlong.runtime.train.LoraSettings;
import dev.memlong.runtime.train.LrSchedule;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.TrainingMode;
import dev.memlong.runtime.train.TrainingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Trains the shipped demo model from nothing, reproducibly: synthetic multi-session dialogues (facts stated, long
 * small talk, questions about the facts), a word-piece tokenizer for them, then two stages as MemLong does:
 * pretraining of every layer with a short window and no memory, then the MemLong stage (layers above the memory
 * layer, bge-small retrieval in the loop). Writes an fp16 model directory.
 */
@Command(name = "train-demo", mixinStandardHelpOptions = true, description = "Train the shipped demo model (two stages, synthetic dialogues, fixed seed)")
final class TrainDemoCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "models/demo", description = "model directory to write (default models/demo)")
    Path out;
    @Option(names = "--seed", defaultValue = "7") long seed;
    @Option(names = "--stage1-dialogues", defaultValue = "6000", description = "short dialogues for stage 1") int stage1Dialogues;
    @Option(names = "--stage2-dialogues", defaultValue = "600", description = "long dialogues for stage 2") int stage2Dialogues;
    @Option(names = "--stage0-steps", defaultValue = "10000", description = "fact-drill steps (stage 0; about 75 minutes on 2 cores)") int stage0Steps;
    @Option(names = "--stage1-steps", defaultValue = "1500") int stage1Steps;
    @Option(names = "--stage2-steps", defaultValue = "500") int stage2Steps;
    // Stage 3 (memory drills) is experimental and off by default: none of the settings tried so far taught the
    // demo model to read memory (README, "Status"); the options are here so the next attempt starts from them.
    @Option(names = "--stage3-steps", defaultValue = "0", description = "memory-drill steps (stage 3, experimental; 0 = none)")
    int stage3Steps;
    @Option(names = "--stage3-only", description = "only run stage 3, on the model in --out") boolean stage3Only;
    @Option(names = "--stage3-from-scratch", description = "stage 3 starts from freshly initialised weights (seed) instead of the model in --out")
    boolean stage3FromScratch;
    @Option(names = "--stage3-lr", defaultValue = "1e-3") double stage3Lr;
    @Option(names = "--stage3-mode", defaultValue = "FULL_UPPER", description = "FULL_UPPER (MemLong's stage) or FULL_ALL")
    TrainingMode stage3Mode;
    @Option(names = "--stage3-memory-gradients", description = "in-graph memory (the previous segment) instead of retrieval")
    boolean stage3MemoryGradients;
    @Option(names = "--stage3-segment", defaultValue = "256", description = "training segment (the stated facts fill one)")
    int stage3Segment;
    @Option(names = "--stage3-batch", defaultValue = "8") int stage3Batch;
    @Option(names = "--stage3-memory-bias", defaultValue = "0", description = "training-only memory score bias at step 0")
    double stage3MemoryBias;
    @Option(names = "--batch", defaultValue = "8") int batch;
    @Option(names = "--hidden", defaultValue = "128") int hidden;
    @Option(names = "--head-dim", defaultValue = "32", description = "attention head size (heads = hidden / head-dim, KV heads half of them)")
    int headDim;
    @Option(names = "--layers", defaultValue = "6") int layers;
    @Option(names = "--memory-layer", defaultValue = "2", description = "the frozen boundary: layers 0..m train in stage 1 only") int memoryLayer;
    @Option(names = "--workers", defaultValue = "1") int workers;
    @Option(names = "--eval-facts", defaultValue = "24", description = "facts per distance for the recall check at the end (0 = none)")
    int evalFacts;
    @Option(names = "--eval-only", description = "only run the recall check on the model in --out") boolean evalOnly;
    @Option(names = "--skip-stage1", description = "reuse the stage-1 model in OUT/stage1 (kept by --keep-intermediate)") boolean skipStage1;
    @Option(names = "--resume", description = "continue an interrupted run (same options): each stage from its checkpoint in "
            + "OUT (written every 250 steps; implies --keep-intermediate), so a long run can span several sessions. "
            + "A stage already finished is not retrained, even if an earlier stage was extended") boolean resume;
    @Option(names = "--keep-intermediate", description = "keep the stage-1 model and the resumable checkpoints") boolean keep;

    static final int WINDOW = 256;
    static final int DRILL_WINDOW = 128;
    static final int CHUNK = 64;
    static final int TOP_K = 8;

    @Override
    public Integer call() throws Exception {
        if (evalOnly) {
            Json.print(evaluate());
            return 0;
        }
        Files.createDirectories(out);
        Path stage1 = out.resolve("stage1");
        Files.createDirectories(stage1);
        // Stage 1 sees short dialogues that fit its window, so every answer can be copied from context, and copy
        // drills: that is where the model learns to copy (induction), which stage 2 then points at memory.
        SyntheticDialogues gen = new SyntheticDialogues(seed);
        List<String> shortLines = new ArrayList<>();
        for (int i = 0; i < stage1Dialogues; i++) {
            shortLines.add(TrainingData.jsonl(i % 2 == 0 ? gen.shortDialogue(2 + i / 2 % 4, i / 2 % 2)
                    : gen.copyDrills(6)));
        }
        // Stage 0: fact drills (3-5 facts stated, then each asked about), one per 128-token segment, 16 a step.
        // Answering needs attention that finds the asked key among the stated ones and copies the value after it;
        // that forms slowly (PyTorch on the same data: 4-7% / 15% / 25-31% of values right after 1-2k / 3k / 4k
        // steps), and far slower still inside 256-token dialogues where answers are a small share of the loss
        // (measured: 3,000 steps of those alone copied no values).
        List<String> drillLines = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            drillLines.add(TrainingData.jsonl(gen.factDrill(3 + i % 3)));
        }
        List<String> longLines = new ArrayList<>();
        for (int i = 0; i < stage2Dialogues; i++) {
            longLines.add(TrainingData.jsonl(gen.longDialogue(6 + i % 5, 6)));
        }
        Path drillData = stage1.resolve("fact-drills.jsonl");
        Files.write(drillData, drillLines);
        Path shortData = stage1.resolve("short-dialogues.jsonl");
        Path longData = stage1.resolve("long-dialogues.jsonl");
        Files.write(shortData, shortLines);
        Files.write(longData, longLines);
        // Every layer from the memory layer up reads memory: the memory layer itself (frozen in stage 2) reads keys
        // of its own key space, the layers above learn to.
        List<Integer> retrievalLayers = new ArrayList<>();
        for (int l = memoryLayer; l < layers; l++) {
            retrievalLayers.add(l);
        }
        // deterministic: rewriting them for --skip-stage1 changes nothing but the declared layout
        int vocab = WordPieceVocabularyWriter.write(stage1, SyntheticDialogues.vocabulary());
        writeConfig(stage1, vocab, retrievalLayers);
        MemorySettings memory = new MemorySettings(memoryLayer, retrievalLayers, CHUNK, TOP_K, WINDOW,
                MemorySettings.DEFAULT_CAPACITY_TOKENS, EvictionPolicy.FREQUENCY, KvDType.BF16);
        Map<String, Object> json = new LinkedHashMap<>();
        try (TextTokenizer tokenizer = Tokenizers.open(stage1)) {
            Optional<ChatTemplate> template = ChatTemplate.find(stage1);
            List<int[]> shortDocs = TrainingData.read(List.of(shortData), tokenizer, template);
            List<int[]> longDocs = TrainingData.read(List.of(longData), tokenizer, template);
            ModelConfig config = ModelConfig.load(stage1);
            if (!skipStage1 && !stage3Only) {
                Path stage0 = out.resolve("stage0");
                // Each drill is one segment, cut at the window as the PyTorch reference curve cuts it: fed on, a
                // drill's last questions (half the drills pass 128 tokens; 18% of answer values) would be asked in a
                // segment of their own with the facts out of sight (stage 0 has no memory): unanswerable targets.
                List<int[]> drillDocs = TrainingData.read(List.of(drillData), tokenizer, template).stream()
                        .map(d -> java.util.Arrays.copyOf(d, Math.min(d.length, DRILL_WINDOW))).toList();
                String drills = describe("fact drills", drillDocs);
                TrainingSettings s0 = new TrainingSettings(TrainingMode.FULL_ALL, null, memory, false,
                        new LrSchedule(3e-3, 100, stage0Steps, LrSchedule.Decay.COSINE, 0.3), 0.01, 0.9, 0.95, 1e-8, 1.0,
                        1, 16, DRILL_WINDOW, workers, seed);
                System.err.println("stage 0: fact drills, all layers from scratch, window " + DRILL_WINDOW + " (" + drills + ")");
                TrainingJob.Result r0 = TrainingJob.run(new TrainingJob.Spec(root -> ModelParameters.initialize(config, seed, root),
                        stage1, "scratch", s0, drillDocs, stage0Steps, stage0, false, "F32", 250, resumeFrom(stage0), drills), null,
                        tokenizer, System.err);
                json.put("stage0", r0);
                Files.copy(stage0.resolve("loss.png"), out.resolve("loss-stage0.png"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                String range = describe("short", shortDocs);
                TrainingSettings s1 = new TrainingSettings(TrainingMode.FULL_ALL, null, memory, false,
                        new LrSchedule(2e-3, 50, stage1Steps, LrSchedule.Decay.COSINE, 0.1), 0.01, 0.9, 0.95, 1e-8, 1.0,
                        1, batch, WINDOW, workers, seed);
                System.err.println("stage 1: pretraining all layers, window " + WINDOW + ", no memory (" + range + ")");
                TrainingJob.Result r1 = TrainingJob.run(new TrainingJob.Spec(root -> ModelParameters.load(stage0, root),
                        stage1, "memlong-demo-stage0", s1, shortDocs, stage1Steps, stage1, false, "F32", 250, resumeFrom(stage1), range), null,
                        tokenizer, System.err);
                json.put("stage1", r1);
                Files.copy(stage1.resolve("loss.png"), out.resolve("loss-stage1.png"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            if (!stage3Only) {
            String range = describe("long", longDocs);
            TrainingSettings s2 = new TrainingSettings(TrainingMode.FULL_UPPER, new LoraSettings(8, 16, 0), memory, true,
                    new LrSchedule(1e-3, 30, stage2Steps, LrSchedule.Decay.COSINE, 0.1), 0.01, 0.9, 0.98, 1e-8, 1.0, 1,
                    batch, WINDOW, workers, seed + 1);
            System.err.println("stage 2: MemLong, layers above " + memoryLayer + " with bge-small retrieval (top-" + TOP_K
                    + " chunks of " + CHUNK + ", " + range + ")");
            try (Retriever retriever = BgeSmallRetriever.create()) {
                TrainingJob.Result r2 = TrainingJob.run(new TrainingJob.Spec(root -> ModelParameters.load(stage1, root),
                        stage1, "memlong-demo-stage1", s2, longDocs, stage2Steps, out, false, "F16", 100, resumeFrom(out), range),
                        retriever, tokenizer, System.err);
                json.put("stage2", r2);
            }
            }
            if (stage3Steps > 0) {
                json.put("stage3", stage3(tokenizer, ChatTemplate.find(stage1), memory));
            }
        }
        if (!keep && !resume) {
            deleteTree(stage1);
            deleteTree(out.resolve("stage0"));
            deleteTree(out.resolve("checkpoint"));
            deleteTree(out.resolve("stage3"));
        }
        json.put("out", out.toString());
        if (evalFacts > 0) {
            json.put("recall", evaluate());
        }
        Json.print(json);
        return 0;
    }

    /**
     * Stage 3, memory drills: the layers above the memory layer learn to read memory from segments whose questions are
     * about facts that only memory holds (stage 2's long dialogues have one such answer token in hundreds). Starts
     * from the model stage 2 wrote to OUT and writes the final model there.
     */
    private TrainingJob.Result stage3(TextTokenizer tokenizer, Optional<ChatTemplate> template, MemorySettings memory)
            throws java.io.IOException {
        SyntheticDialogues gen = new SyntheticDialogues(seed + 3);
        MemoryDrillDocuments layout = new MemoryDrillDocuments(tokenizer, template, stage3Segment);
        int maxFacts = stage3Segment / 32; // a stated fact and its acknowledgement take at most about 30 tokens
        List<int[]> docs = new ArrayList<>();
        for (int i = 0; i < Math.max(1, stage3Steps * stage3Batch / 2); i++) { // about one epoch
            docs.add(layout.document(gen.memoryDrill(1 + i % maxFacts), 2));
        }
        String range = describe("memory-drill", docs);
        Path dir = out.resolve("stage3");
        Files.createDirectories(dir);
        TrainingSettings s3 = new TrainingSettings(stage3Mode, new LoraSettings(8, 16, 0), memory, !stage3MemoryGradients,
                new LrSchedule(stage3Lr, 50, stage3Steps, LrSchedule.Decay.COSINE, 0.1), 0.01, 0.9, 0.98, 1e-8, 1.0, 1,
                stage3Batch, stage3Segment, workers, seed + 3, stage3MemoryGradients, stage3MemoryBias);
        System.err.println("stage 3: memory drills, layers above " + memory.memoryLayer() + " with bge-small retrieval ("
                + range + ")");
        try (Retriever retriever = BgeSmallRetriever.create()) {
            ModelConfig config = ModelConfig.load(out.resolve("stage1"));
            TrainingJob.Result r3 = TrainingJob.run(new TrainingJob.Spec(root -> stage3FromScratch
                    ? ModelParameters.initialize(config, seed, root) : ModelParameters.load(out, root),
                    stage3FromScratch ? out.resolve("stage1") : out, stage3FromScratch ? "scratch" : "memlong-demo-stage2",
                    s3, docs, stage3Steps, dir, false, "F16", 100, resumeFrom(dir), range),
                    retriever, tokenizer, System.err);
            try (var files = Files.list(dir)) { // the model and, from scratch, its config and tokenizer
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(f, out.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Files.copy(dir.resolve("loss.png"), out.resolve("loss-stage3.png"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return r3;
        }
    }

    /** With --resume, a stage continues from its last checkpoint (a stage already done only writes its model again). */
    private Path resumeFrom(Path stageDir) {
        Path checkpoint = stageDir.resolve("checkpoint");
        return resume && Files.isDirectory(checkpoint) ? checkpoint : null;
    }

    private String describe(String kind, List<int[]> docs) {
        long tokens = docs.stream().mapToLong(d -> d.length).sum();
        return "synthetic " + kind + " dialogues seed " + seed + ", " + docs.size() + " dialogues, " + tokens + " tokens";
    }

    /**
     * A quick recall check (facts 1k and 4k tokens back, both beyond the window) on a conversation from a seed the
     * training never used; {@code memlong bench recall} is the full one.
     */
    private Map<String, Object> evaluate() {
        try (dev.memlong.runtime.bundle.ModelBundle bundle = dev.memlong.runtime.bundle.ModelBundle.open(out);
             Retriever retriever = BgeSmallRetriever.create()) {
            dev.memlong.examples.train.RecallCheck.Result r = dev.memlong.examples.train.RecallCheck.run(bundle,
                    retriever, dev.memlong.runtime.memlong.MemLongEngine.defaultSettings(bundle),
                    new dev.memlong.examples.train.RecallCheck.Options(new int[] {1024, 4096}, evalFacts,
                            seed + 1_000_003, 10), System.err);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("distances", r.distances());
            json.put("ppl_memory", r.pplMemory());
            json.put("ppl_window_only", r.pplWindowOnly());
            json.put("samples", r.samples());
            return json;
        }
    }

    private static void deleteTree(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private void writeConfig(Path dir, int vocab, List<Integer> retrievalLayers) throws java.io.IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode c = mapper.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", vocab);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", hidden * 5 / 2);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", hidden / headDim);
        c.put("num_key_value_heads", Math.max(1, hidden / headDim / 2));
        c.put("head_dim", headDim);
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", WINDOW);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", WordPieceVocabularyWriter.EOS);
        c.put("pad_token_id", 3);
        c.put("torch_dtype", "float32");
        c.put("chat_template", WordPieceVocabularyWriter.CHAT_TEMPLATE);
        ObjectNode memlong = c.putObject("memlong");
        memlong.put("memory_layer", memoryLayer);
        memlong.putPOJO("retrieval_layers", retrievalLayers);
        memlong.put("chunk_size", CHUNK);
        memlong.put("top_k", TOP_K);
        memlong.put("local_window", WINDOW);
        mapper.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);
        ObjectNode gen = mapper.createObjectNode();
        gen.put("bos_token_id", 1);
        gen.put("eos_token_id", WordPieceVocabularyWriter.EOS);
        mapper.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("generation_config.json").toFile(), gen);
    }

}
