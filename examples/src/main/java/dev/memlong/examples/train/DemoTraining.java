package dev.memlong.examples.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.examples.train.SyntheticDialogues.Negatives;
import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.retriever.BgeSmallRetriever;
import dev.memlong.runtime.retriever.HybridRetriever;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import dev.memlong.runtime.train.LrSchedule;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.TargetWeights;
import dev.memlong.runtime.train.TrainingMode;
import dev.memlong.runtime.train.TrainingSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Trains the shipped demo model from nothing, reproducibly: synthetic multi-session dialogues (facts stated, small
 * talk, questions about the facts), a word-piece tokenizer for them, then two stages as MemLong does:
 * <ol>
 *   <li>Pretraining of every layer from freshly initialised weights with a short window (128-token segments) on
 *       memory drills, with <em>in-graph memory</em>: each segment reads the previous one as memory (memory layer's
 *       K/V, all at position 0, as retrieved memory is), recomputed in the same graph so the gradient reaches the
 *       layers that write memory. MemLong pretrains without memory and detaches memory in its stage 2; for a model
 *       this small that left the memory layer's K/V without the information to find a fact (README, "Status":
 *       nine runs from such a model never read memory), so the layers up to the memory layer learn here, once, what
 *       to store.</li>
 *   <li>The MemLong stage: layers above the memory layer only (the layers that write memory frozen, so stored
 *       memories stay valid), bge-small retrieval of the top-k chunks in the loop, retrieval drills whose questions
 *       reach facts beyond the window.</li>
 * </ol>
 * Writes an fp16 model directory. {@code memlong train-demo} runs it; what each setting does is in that command's
 * help.
 */
public final class DemoTraining {

    /** Positions the model supports (max_position_embeddings): a user may serve it with a window up to this. */
    public static final int WINDOW = 256;
    public static final int PRETRAIN_SEGMENT = 128;
    public static final int PRETRAIN_BATCH = 16;

    /** What {@code train-demo}'s options say to train: the model's shape, its memory layout and both stages. */
    public record Recipe(long seed, int pretrainSteps, double pretrainLr, int pretrainMemorySegments,
                         int positionSpread, double ropeTheta, int chunk, int topK, double lexicalWeight,
                         int trainTopK, double valueWeight, boolean answerableOnly, boolean windowOwners,
                         boolean questionsFirst, double reverseQuestions, int memlongSteps, double memlongLr,
                         int hidden, int headDim, int kvHeads, int layers, int memoryLayer, int workers, int window,
                         int nextChunks) {}

    /** Both stages' outcomes. */
    public record Result(TrainingJob.Result stage1, TrainingJob.Result stage2) {}

    private final Recipe recipe;
    private final Path out;
    private final boolean resume;

    /**
     * @param out    the model directory: stage 1 and the shared base go to OUT/stage1 and OUT/base, the model to OUT
     * @param resume continue each stage from its checkpoint in OUT, where there is one
     */
    public DemoTraining(Recipe recipe, Path out, boolean resume) {
        this.recipe = recipe;
        this.out = out;
        this.resume = resume;
    }

    /** The retriever of stage 2 and the recall check: bge-small blended with word overlap at {@code lexicalWeight}. */
    public static Retriever retriever(double lexicalWeight) {
        return HybridRetriever.blend(BgeSmallRetriever.create(), lexicalWeight);
    }

    /** Writes the tokenizer and config to OUT/base, then trains both stages. */
    public Result run() throws java.io.IOException {
        Path base = out.resolve("base"); // vocabulary, tokenizer and config shared by both stages
        Files.createDirectories(base);
        // Every layer from the memory layer up reads memory: the memory layer itself (frozen in stage 2) reads keys
        // of its own key space, the layers above learn to.
        List<Integer> retrievalLayers = new ArrayList<>();
        for (int l = recipe.memoryLayer(); l < recipe.layers(); l++) {
            retrievalLayers.add(l);
        }
        // deterministic: rewriting them on --resume changes nothing
        int vocab = WordPieceVocabularyWriter.write(base, SyntheticDialogues.vocabulary());
        writeConfig(base, vocab, retrievalLayers);
        MemorySettings memory = new MemorySettings(recipe.memoryLayer(), retrievalLayers, recipe.chunk(),
                recipe.topK(), recipe.window(), MemorySettings.PAPER_CAPACITY_TOKENS, EvictionPolicy.FREQUENCY,
                KvDType.BF16, recipe.nextChunks());
        try (TextTokenizer tokenizer = Tokenizers.open(base)) {
            Optional<ChatTemplate> template = ChatTemplate.find(base);
            TrainingJob.Result stage1 = pretrain(tokenizer, template, memory, base);
            return new Result(stage1, memlongStage(tokenizer, template, memory));
        }
    }

    /** {@code --value-weight} on every token of a fact value (small talk uses none of these words). */
    private TargetWeights valueWeights(TextTokenizer tokenizer) {
        if (recipe.valueWeight() == 1) {
            return TargetWeights.NONE;
        }
        return TargetWeights.of(recipe.valueWeight(), SyntheticDialogues.valueWords().stream()
                .flatMapToInt(w -> java.util.Arrays.stream(tokenizer.encode(w, false))).distinct().toArray());
    }

    /**
     * Stage 1: memory drills ({@link SyntheticDialogues#memoryDrill}: one to four facts and their acknowledgements
     * fill a 128-token segment, the next segment asks about each; a quarter of the drills' facts share people and
     * attributes, half are one attribute of several people: the hard negatives retrieval brings back), all layers from
     * scratch, in-graph memory. The
     * assistant's turns are trained, the user's are context only. Writes OUT/stage1.
     */
    private TrainingJob.Result pretrain(TextTokenizer tokenizer, Optional<ChatTemplate> template, MemorySettings memory,
                                       Path base) throws java.io.IOException {
        long seed = recipe.seed();
        int pretrainMemorySegments = recipe.pretrainMemorySegments();
        SyntheticDialogues gen = new SyntheticDialogues(seed + 3, recipe.windowOwners(), recipe.reverseQuestions());
        MemoryDrillDocuments layout = new MemoryDrillDocuments(tokenizer, template, PRETRAIN_SEGMENT);
        int maxFacts = PRETRAIN_SEGMENT / 32; // a stated fact and its acknowledgement take at most about 30 tokens
        List<int[]> docs = new ArrayList<>();
        for (int i = 0; i < Math.max(1, recipe.pretrainSteps() * PRETRAIN_BATCH / 2); i++) { // about one epoch
            if (pretrainMemorySegments == 1) {
                // a quarter unrelated facts (1 to 4), a quarter sharing people and attributes, half one attribute of 2
                // to 4 people: the negatives a retrieved memory mostly holds (SyntheticDialogues#sameAttributeFacts)
                Negatives kind = switch (i % 4) {
                    case 0 -> Negatives.NONE;
                    case 1 -> Negatives.SHARED;
                    default -> Negatives.SAME_ATTRIBUTE;
                };
                int facts = kind == Negatives.NONE ? 1 + i / 4 % maxFacts : 2 + i / 4 % (maxFacts - 1);
                SyntheticDialogues.MemoryDrill drill;
                do { // four long facts may not fit a segment: drawn again
                    drill = gen.memoryDrill(facts, kind, recipe.questionsFirst());
                } while (layout.statedTokens(drill) > PRETRAIN_SEGMENT);
                docs.add(layout.document(drill, askedSegments(1, 2)));
            } else if (i % 2 == 0) {
                docs.add(layout.document(gen.memoryDrill(1 + i % maxFacts, i % 4 == 2), askedSegments(1, 2)));
            } else {
                // more related facts than one segment holds, stated with small talk over up to as many segments as
                // memory spans, so reading must pick among many similar facts (as from 8 retrieved chunks); about two
                // facts with their small talk fit a 128-token segment, and a drill that does not fit is drawn again
                SyntheticDialogues.MemoryDrill drill;
                int statedSegments;
                int facts = Math.min(16, 4 + i / 2 % (2 * pretrainMemorySegments - 1));
                do {
                    drill = gen.retrievalDrill(facts);
                    statedSegments = (layout.statedTokens(drill) + PRETRAIN_SEGMENT - 1) / PRETRAIN_SEGMENT;
                } while (statedSegments > pretrainMemorySegments);
                docs.add(layout.document(drill, statedSegments, askedSegments(statedSegments, 3)));
            }
        }
        String range = describe("memory-drill", docs);
        Path dir = out.resolve("stage1");
        TrainingSettings s1 = new TrainingSettings(TrainingMode.FULL_ALL, null, memory, false,
                new LrSchedule(recipe.pretrainLr(), 50, recipe.pretrainSteps(), LrSchedule.Decay.COSINE, 0.1), 0.01,
                0.9, 0.98, 1e-8, 1.0, 1, PRETRAIN_BATCH, PRETRAIN_SEGMENT, recipe.workers(), seed + 3,
                pretrainMemorySegments, 0, recipe.positionSpread(), valueWeights(tokenizer));
        System.err.println("stage 1: all layers from scratch, memory drills with in-graph memory, segments of "
                + PRETRAIN_SEGMENT + " (" + range + ")");
        ModelConfig config = ModelConfig.load(base);
        TrainingJob.Result r = TrainingJob.run(new TrainingJob.Spec(root -> ModelParameters.initialize(config, seed, root),
                base, "scratch", s1, docs, recipe.pretrainSteps(), dir, false, "F16", 100, resumeFrom(dir), range),
                null, tokenizer, System.err);
        Files.copy(dir.resolve("loss.png"), out.resolve("loss-stage1.png"), StandardCopyOption.REPLACE_EXISTING);
        return r;
    }

    /**
     * Segments of questions a stage-1 drill has after {@code statedSegments} segments of stated facts. With {@code
     * --answerable-only} (the default since session 10), only as many as still hold every stated segment in their
     * in-graph memory (the previous {@code --pretrain-memory-segments}); without it (session 8's recipe), {@code withoutAnswerableOnly}
     * whatever memory spans. A question beyond the answerable segments asks about a fact that is in neither the
     * window nor the memory, so training on it teaches guessing a value of the asked attribute: with the defaults
     * about half of stage 1's questions about remembered facts are such. Removing them (session 9, one full run)
     * changed nothing measurable: reading on held-out drills 0.86 / 0.65 / 0.32 for unrelated / shared /
     * one-attribute facts against the shipped model's 0.83 / 0.57 / 0.41, the recall check 0.54 / 0.33 against
     * 0.42 / 0.25.
     */
    private int askedSegments(int statedSegments, int withoutAnswerableOnly) {
        return recipe.answerableOnly() ? recipe.pretrainMemorySegments() - statedSegments + 1 : withoutAnswerableOnly;
    }

    /**
     * Stage 2, MemLong: layers above the memory layer and the final norm (full fine-tune; the layers that write memory
     * frozen), retrieval of the top-k chunks (default 1 of 32 tokens; bge-small blended with word overlap, the
     * runtime's default retriever) in the loop (queried per 32-token
     * piece of a segment, as inference queries by the current turn), on retrieval drills
     * ({@link SyntheticDialogues#retrievalDrill}: 4 to 12 related facts spread with small talk over several segments,
     * then each asked once; every other drill's facts are one attribute of as many people). Stage 1 read one segment of memory; here the model is meant to learn to pick the asked
     * fact among retrieved chunks of similar facts, as a long conversation gives them (measured: it changes recall
     * within noise). Writes the model to OUT.
     */
    private TrainingJob.Result memlongStage(TextTokenizer tokenizer, Optional<ChatTemplate> template,
                                            MemorySettings memory) throws java.io.IOException {
        SyntheticDialogues gen = new SyntheticDialogues(recipe.seed() + 1);
        MemoryDrillDocuments layout = new MemoryDrillDocuments(tokenizer, template, PRETRAIN_SEGMENT);
        List<int[]> docs = new ArrayList<>();
        for (int i = 0; i < Math.max(1, recipe.memlongSteps() * PRETRAIN_BATCH / 6); i++) { // about one epoch (~8 segments each)
            SyntheticDialogues.MemoryDrill drill = gen.retrievalDrill(4 + i % 9,
                    i % 2 == 0 ? Negatives.SHARED : Negatives.SAME_ATTRIBUTE);
            int statedSegments = (layout.statedTokens(drill) + PRETRAIN_SEGMENT - 1) / PRETRAIN_SEGMENT;
            docs.add(layout.document(drill, statedSegments, 4));
        }
        String range = describe("retrieval-drill", docs);
        int trainTopK = recipe.trainTopK();
        MemorySettings trainMemory = trainTopK == 0 ? memory : new MemorySettings(memory.memoryLayer(),
                memory.retrievalLayers(), memory.chunkSize(), trainTopK, memory.localWindow(), memory.capacityTokens(),
                memory.eviction(), memory.kvDType(), memory.nextChunks());
        TrainingSettings s2 = new TrainingSettings(TrainingMode.FULL_UPPER, null, trainMemory, true,
                new LrSchedule(recipe.memlongLr(), 50, recipe.memlongSteps(), LrSchedule.Decay.COSINE, 0.1), 0.01, 0.9,
                0.98, 1e-8, 1.0, 1, PRETRAIN_BATCH, PRETRAIN_SEGMENT, recipe.workers(), recipe.seed() + 1, 0, 0,
                recipe.positionSpread(), valueWeights(tokenizer));
        double lexicalWeight = recipe.lexicalWeight();
        System.err.println("stage 2: MemLong, layers above " + memory.memoryLayer() + " with retrieval (bge-small"
                + (lexicalWeight > 0 ? " blended with word overlap at " + lexicalWeight : "") + ", top-" + recipe.topK()
                + " chunks of " + recipe.chunk() + ", " + range + ")");
        try (Retriever retriever = retriever(lexicalWeight)) {
            Path stage1 = out.resolve("stage1");
            return TrainingJob.run(new TrainingJob.Spec(root -> ModelParameters.load(stage1, root), stage1,
                    "memlong-demo-stage1", s2, docs, recipe.memlongSteps(), out, false, "F16", 100, resumeFrom(out),
                    range), retriever, tokenizer, System.err);
        }
    }

    /** With --resume, a stage continues from its last checkpoint (a stage already done only writes its model again). */
    private Path resumeFrom(Path stageDir) {
        Path checkpoint = stageDir.resolve("checkpoint");
        return resume && Files.isDirectory(checkpoint) ? checkpoint : null;
    }

    private String describe(String kind, List<int[]> docs) {
        long tokens = docs.stream().mapToLong(d -> d.length).sum();
        return "synthetic " + kind + " dialogues seed " + recipe.seed() + ", " + docs.size() + " dialogues, " + tokens
                + " tokens";
    }

    private void writeConfig(Path dir, int vocab, List<Integer> retrievalLayers) throws java.io.IOException {
        int hidden = recipe.hidden();
        int headDim = recipe.headDim();
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode c = mapper.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("vocab_size", vocab);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", hidden * 5 / 2);
        c.put("num_hidden_layers", recipe.layers());
        c.put("num_attention_heads", hidden / headDim);
        c.put("num_key_value_heads", recipe.kvHeads() > 0 ? recipe.kvHeads() : Math.max(1, hidden / headDim / 2));
        c.put("head_dim", headDim);
        c.put("hidden_act", "silu");
        c.put("max_position_embeddings", WINDOW);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", recipe.ropeTheta());
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", WordPieceVocabularyWriter.EOS);
        c.put("pad_token_id", 3);
        c.put("torch_dtype", "float32");
        c.put("chat_template", WordPieceVocabularyWriter.CHAT_TEMPLATE);
        ObjectNode memlong = c.putObject("memlong");
        memlong.put("memory_layer", recipe.memoryLayer());
        memlong.putPOJO("retrieval_layers", retrievalLayers);
        memlong.put("chunk_size", recipe.chunk());
        memlong.put("top_k", recipe.topK());
        memlong.put("local_window", recipe.window());
        memlong.put("next_chunks", recipe.nextChunks());
        mapper.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);
        ObjectNode gen = mapper.createObjectNode();
        gen.put("bos_token_id", 1);
        gen.put("eos_token_id", WordPieceVocabularyWriter.EOS);
        mapper.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("generation_config.json").toFile(), gen);
    }
}
