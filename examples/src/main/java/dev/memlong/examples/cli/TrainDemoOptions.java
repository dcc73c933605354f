package dev.memlong.examples.cli;

import static dev.memlong.examples.train.DemoTraining.PRETRAIN_SEGMENT;
import static dev.memlong.examples.train.DemoTraining.WINDOW;

import dev.memlong.examples.train.DemoTraining;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code memlong train-demo}'s options: where the model goes, how the run treats an earlier one there, and the
 * recipe ({@link DemoTraining.Recipe}: the model's shape, its memory layout, both stages), with the reasons for the
 * defaults in their help.
 */
final class TrainDemoOptions {

    @Option(names = "--out", defaultValue = "models/demo", description = "model directory to write (default "
            + "models/demo, the shipped model: refused while it holds a model, unless --force or --resume)")
    Path out;
    @Option(names = "--force", description = "overwrite a model (and a previous run's checkpoints) already in --out")
    boolean force;
    @Option(names = "--seed", defaultValue = "7") long seed;
    @Option(names = "--pretrain-steps", defaultValue = "4500", description = "stage 1 steps (memory drills from scratch; about 23 minutes on 2 cores)")
    int pretrainSteps;
    @Option(names = "--pretrain-lr", defaultValue = "1e-3", description = "stage 1 peak learning rate (at 1e-2 memory "
            + "attention collapses onto one token; 3e-3 grew attention logits so large that memory got no weight)")
    double pretrainLr;
    @Option(names = "--pretrain-memory-segments", defaultValue = "1", description = "stage 1 in-graph memory: the "
            + "previous N segments (with N > 1, every other drill states more facts over up to N segments)")
    int pretrainMemorySegments;
    @Option(names = "--position-spread", defaultValue = "0", description = "both stages: each micro-batch's segments "
            + "start at a random position in 1..1+N (at most 128), so with N = 128 questions are trained at every "
            + "position of the 256-token window, not only 1..128 (queries meet unrotated memory keys: their scores "
            + "depend on the position)")
    int positionSpread;
    @Option(names = "--rope-theta", defaultValue = "10000", description = "RoPE base (Llama 3 uses 500000); a large "
            + "base leaves more of a 32-wide head's dimensions nearly unrotated across the window, which is where a query "
            + "can match memory keys (at position 0) the same way at every position")
    double ropeTheta;
    @Option(names = "--chunk", defaultValue = "32", description = "memory chunk size in tokens (32: a question's chunk "
            + "ranks in the top 8 for 0.92-1.0 of bench recall's questions, against 0.60-1.0 with 64)") int chunk;
    @Option(names = "--top-k", defaultValue = "1", description = "chunks retrieved per query (default 1 since session "
            + "10: with the blended retriever the answering chunk usually comes first, and every further chunk mostly "
            + "adds another person's value of the asked attribute, which this model cannot tell from the right one; "
            + "bench recall at 4k / 64k: 0.68 / 0.88 against 0.16 / 0.28 with 4 chunks and bge-small alone)") int topK;
    @Option(names = "--lexical-weight", defaultValue = "0.5", paramLabel = "W", description = "stage 2 and the check: "
            + "share of the retrieval score from shared content words (HybridRetriever over bge-small; default 0.5, the "
            + "runtime's; 0: bge-small alone, as up to session 9)")
    double lexicalWeight;
    @Option(names = "--train-top-k", defaultValue = "0", description = "stage 2: chunks retrieved per 128-token "
            + "training segment (0: --top-k). Training retrieves once a segment, the best chunks over its 32-token "
            + "pieces, so with --top-k 1 a segment asking four questions holds at most one answer") int trainTopK;
    @Option(names = "--value-weight", defaultValue = "1", description = "both stages: loss weight of the tokens of "
            + "fact values (names, cities, numbers, ...), the tokens only memory can predict when a fact is asked "
            + "about; every other token weighs 1 (default 1: the plain mean)") double valueWeight;
    @Option(names = "--answerable-only", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "stage 1: drills ask only in the segments whose in-graph memory holds the stated facts "
            + "(default since session 10; with --no-answerable-only, session 8's recipe, about half of the questions "
            + "about remembered facts fall in a segment whose memory no longer holds them)") boolean answerableOnly;
    @Option(names = "--window-owners", description = "stage 1: a drill whose remembered facts are one attribute of "
            + "several people states and asks two more people's values of it in the window, so answering there needs "
            + "the owner at the value too") boolean windowOwners;
    @Option(names = "--questions-first", description = "stage 1: a drill's questions about remembered facts come "
            + "before the two facts of the window, so that they fill the one asked segment (otherwise about half of a "
            + "four-fact drill's questions do not fit it and are cut)") boolean questionsFirst;
    @Option(names = "--reverse-questions", defaultValue = "0", paramLabel = "SHARE", description = "stage 1: share of "
            + "the remembered facts asked by value (\"what is kia?\" -> \"kia is your aunt's car.\"), a loss that needs "
            + "the owner stored at the value (default 0)")
    double reverseQuestions;
    @Option(names = "--memlong-steps", defaultValue = "1000", description = "stage 2 steps (MemLong: layers above the memory layer, retrieval)")
    int memlongSteps;
    @Option(names = "--memlong-lr", defaultValue = "1e-3") double memlongLr;
    @Option(names = "--hidden", defaultValue = "128") int hidden;
    @Option(names = "--head-dim", defaultValue = "32", description = "attention head size (heads = hidden / head-dim)")
    int headDim;
    @Option(names = "--kv-heads", defaultValue = "0", description = "key/value heads (0: half the heads, as the shipped "
            + "model; the memory stores keys and values of these heads only)")
    int kvHeads;
    @Option(names = "--layers", defaultValue = "6") int layers;
    @Option(names = "--memory-layer", defaultValue = "2", description = "the frozen boundary: layers 0..m train in stage 1 only") int memoryLayer;
    @Option(names = "--workers", defaultValue = "1") int workers;
    @Option(names = "--eval-facts", defaultValue = "24", description = "facts per distance for the recall check at the end (0 = none)")
    int evalFacts;
    @Option(names = "--eval-only", description = "only run the recall check on the model in --out") boolean evalOnly;
    @Option(names = "--resume", description = "continue an interrupted run (same options, checked against those saved "
            + "in OUT): each stage from its checkpoint in OUT (written every 100 steps; implies --keep-intermediate), so "
            + "a long run can span several sessions. A stage already finished is not retrained, even if an earlier stage "
            + "was extended") boolean resume;
    @Option(names = "--keep-intermediate", description = "keep the stage-1 model and the resumable checkpoints") boolean keep;

    @Option(names = "--window", defaultValue = "128", description = "the local window the model is served with "
            + "(config.json memlong.local_window; default 128, the length of the training segments: the layers that "
            + "write memory never attend over more context than that, and questions never stand farther from memory; "
            + "session 11, the same model served at 256: bench recall 0.68 / 0.96 / 0.92 / 0.84 against 0.80 / 0.96 / "
            + "0.92 / 0.88 at 128)")
    int window;

    @Option(names = "--next-chunks", defaultValue = "1", description = "stage 2 and serving (config.json "
            + "memlong.next_chunks): chunks stored right after each retrieved chunk that are read with it (default 1 since "
            + "session 11: a fact cut by a chunk boundary or stated at a chunk's end is read whole; served that way "
            + "without retraining, the model without it went from 0.80 / 0.96 / 0.92 / 0.88 to 0.92 / 1.00 / 0.96 / 0.92)")
    int nextChunks;

    /**
     * Options that do not change what is trained, left out of {@link TrainDemoRunDirectory#OPTIONS_FILE}: --out may
     * be spelled another way, the recall check runs after training.
     */
    private static final Set<String> UNSAVED_OPTIONS = Set.of("--out", "--force", "--resume", "--keep-intermediate",
            "--eval-facts", "--eval-only", "--help", "--version");

    /** This mixin's options (the recipe's and the run's; not --help and --version, which are the command's). */
    @Spec CommandSpec spec;

    /** Refuses a recipe that cannot be trained or served, before anything is written. */
    void validate() {
        if (pretrainMemorySegments < 1 || pretrainMemorySegments > 8) {
            throw new IllegalArgumentException("--pretrain-memory-segments must be 1 to 8, got " + pretrainMemorySegments);
        }
        if (positionSpread < 0 || PRETRAIN_SEGMENT + positionSpread > WINDOW) {
            throw new IllegalArgumentException("--position-spread must be 0 to " + (WINDOW - PRETRAIN_SEGMENT)
                    + " (segments of " + PRETRAIN_SEGMENT + " inside the window of " + WINDOW + "), got " + positionSpread);
        }
        if (!(ropeTheta > 1)) {
            throw new IllegalArgumentException("--rope-theta must be > 1, got " + ropeTheta);
        }
        if (chunk < 1 || PRETRAIN_SEGMENT % chunk != 0) {
            throw new IllegalArgumentException("--chunk must divide " + PRETRAIN_SEGMENT + ", got " + chunk);
        }
        if (window < 2 * chunk || window > WINDOW || window % (2 * chunk) != 0) {
            throw new IllegalArgumentException("--window must be a multiple of twice --chunk (" + 2 * chunk
                    + ": overflow moves half the window to memory as whole chunks) and at most " + WINDOW + ", got " + window);
        }
        if (hidden % headDim != 0 || kvHeads < 0 || kvHeads > 0 && (hidden / headDim) % kvHeads != 0) {
            throw new IllegalArgumentException("--hidden must be a multiple of --head-dim and --kv-heads must divide the "
                    + "heads (" + hidden / Math.max(1, headDim) + "), got hidden " + hidden + ", head-dim " + headDim
                    + ", kv-heads " + kvHeads);
        }
        if (topK < 1) {
            throw new IllegalArgumentException("--top-k must be positive, got " + topK);
        }
        if (!(valueWeight > 0) || !Double.isFinite(valueWeight)) {
            throw new IllegalArgumentException("--value-weight must be finite and > 0, got " + valueWeight);
        }
        if (!(reverseQuestions >= 0 && reverseQuestions <= 1)) {
            throw new IllegalArgumentException("--reverse-questions must be in [0, 1], got " + reverseQuestions);
        }
        if (nextChunks < 0) {
            throw new IllegalArgumentException("--next-chunks must not be negative, got " + nextChunks);
        }
        if (trainTopK < 0) {
            throw new IllegalArgumentException("--train-top-k must be 0 (= --top-k) or positive, got " + trainTopK);
        }
        if (!(lexicalWeight >= 0 && lexicalWeight <= 1)) {
            throw new IllegalArgumentException("--lexical-weight must be in [0, 1], got " + lexicalWeight);
        }
    }

    /** Every option that shapes what is trained, by its long name, as text (as given or defaulted). */
    Map<String, String> trainingOptions() {
        Map<String, String> m = new LinkedHashMap<>();
        for (OptionSpec o : spec.options()) {
            if (!UNSAVED_OPTIONS.contains(o.longestName())) {
                m.put(o.longestName(), String.valueOf((Object) o.getValue()));
            }
        }
        return m;
    }

    DemoTraining.Recipe recipe() {
        return new DemoTraining.Recipe(seed, pretrainSteps, pretrainLr, pretrainMemorySegments, positionSpread,
                ropeTheta, chunk, topK, lexicalWeight, trainTopK, valueWeight, answerableOnly, windowOwners,
                questionsFirst, reverseQuestions, memlongSteps, memlongLr, hidden, headDim, kvHeads, layers,
                memoryLayer, workers, window, nextChunks);
    }
}
