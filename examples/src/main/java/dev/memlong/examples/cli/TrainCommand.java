package dev.memlong.examples.cli;

import dev.memlong.runtime.retriever.HashingRetriever;
import dev.memlong.examples.train.TrainingData;
import dev.memlong.examples.train.TrainingJob;
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
import dev.memlong.runtime.train.LoraSettings;
import dev.memlong.runtime.train.LrSchedule;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.TrainingMode;
import dev.memlong.runtime.train.TrainingSettings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Pretrains a model from scratch or fine-tunes one (LoRA or full, with MemLong retrieval in the loop) on text files
 * or JSONL dialogues. Progress on stderr, the result as JSON on stdout.
 */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train or fine-tune a model (pretraining from scratch, LoRA or full fine-tuning with MemLong memory)")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", description = "base model directory to fine-tune (or, with "
            + "--from-scratch, the directory with config.json and the tokenizer of the model to pretrain)", required = true)
    Path model;

    @Option(names = "--from-scratch", description = "initialise the weights instead of loading them (mode full-all)")
    boolean fromScratch;

    @Option(names = "--data", required = true, split = ",", paramLabel = "PATH",
            description = "text files (one document each), .jsonl dialogue files or directories of them")
    List<Path> data;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "where the trained model goes")
    Path out;

    @Option(names = "--mode", defaultValue = "lora", description = "lora (default), full-upper or full-all")
    String mode;

    @Option(names = "--no-retrieval", description = "train as a plain decoder (no MemLong memory in the loop)")
    boolean noRetrieval;

    @Option(names = "--steps", defaultValue = "100", description = "optimizer steps") int steps;
    @Option(names = "--lr", defaultValue = "5e-5", description = "peak learning rate") double lr;
    @Option(names = "--warmup", defaultValue = "10", description = "warm-up steps") int warmup;
    @Option(names = "--decay", defaultValue = "cosine", description = "cosine, linear or constant") String decay;
    @Option(names = "--min-lr-ratio", defaultValue = "0.1", description = "final lr / peak lr") double minLrRatio;
    @Option(names = "--weight-decay", defaultValue = "1e-4") double weightDecay;
    @Option(names = "--clip", defaultValue = "1.0", description = "gradient norm clip (0 = off)") double clip;
    @Option(names = "--batch", defaultValue = "4", description = "batch slots per micro-batch") int batch;
    @Option(names = "--accumulation", defaultValue = "1", description = "micro-batches per optimizer step") int accumulation;
    @Option(names = "--segment", defaultValue = "256", description = "tokens per slot per micro-batch (the training window)") int segment;
    @Option(names = "--workers", defaultValue = "1", description = "data-parallel training workers") int workers;
    @Option(names = "--seed", defaultValue = "1") long seed;
    @Option(names = "--lora-rank", defaultValue = "64") int loraRank;
    @Option(names = "--lora-alpha", defaultValue = "8") float loraAlpha;
    @Option(names = "--lora-dropout", defaultValue = "0.05") float loraDropout;
    @Option(names = "--memory-layer", description = "default: floor(L/2)") Integer memoryLayer;
    @Option(names = "--retrieval-layers", split = ",", description = "default: memory layer and every 4th above") List<Integer> retrievalLayers;
    @Option(names = "--chunk-size", defaultValue = "128") int chunkSize;
    @Option(names = "--top-k", defaultValue = "8") int topK;
    @Option(names = "--next-chunks", defaultValue = "0", description = "chunks stored after each retrieved chunk that are "
            + "read with it (serve the model with the same memlong.memory.next-chunks)") int nextChunks;
    @Option(names = "--retriever", defaultValue = "hybrid", description = "hybrid (default: bge-small blended with "
            + "word overlap, the runtime's default), bge-small or bag-of-words") String retrieverName;
    @Option(names = "--save", defaultValue = "merged", description = "merged (default) or adapter") String save;
    @Option(names = "--save-dtype", defaultValue = "float32", description = "dtype of a merged model: float32, float16, bfloat16") String saveDtype;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "steps between resumable checkpoints") int checkpointEvery;
    @Option(names = "--resume", paramLabel = "DIR", description = "continue from a checkpoint directory (OUT/checkpoint)") Path resume;

    @Override
    public Integer call() throws Exception {
        ModelConfig config = ModelConfig.load(model);
        TrainingMode trainingMode = fromScratch ? TrainingMode.FULL_ALL : TrainingMode.parse(mode);
        int layers = config.numLayers();
        int m = memoryLayer != null ? memoryLayer : MemorySettings.defaultMemoryLayer(layers);
        List<Integer> r = retrievalLayers != null ? retrievalLayers : MemorySettings.defaultRetrievalLayers(m, layers);
        int window = Math.max(segment, 2 * chunkSize) / (2 * chunkSize) * (2 * chunkSize);
        MemorySettings memory = new MemorySettings(m, r, chunkSize, topK, window, MemorySettings.PAPER_CAPACITY_TOKENS,
                EvictionPolicy.FREQUENCY, KvDType.BF16, nextChunks).requireFits(layers, Integer.MAX_VALUE);
        TrainingSettings settings = new TrainingSettings(trainingMode, new LoraSettings(loraRank, loraAlpha, loraDropout),
                memory, !noRetrieval, new LrSchedule(lr, warmup, steps, LrSchedule.Decay.parse(decay), minLrRatio),
                weightDecay, 0.9, 0.999, 1e-8, clip, accumulation, batch, segment, workers, seed);
        try (TextTokenizer tokenizer = Tokenizers.open(model);
             Retriever retriever = noRetrieval ? null : retriever()) {
            List<int[]> docs = TrainingData.read(data, tokenizer, ChatTemplate.find(model));
            long total = docs.stream().mapToLong(d -> d.length).sum();
            TrainingJob.Spec spec = new TrainingJob.Spec(
                    root -> fromScratch ? ModelParameters.initialize(config, seed, root) : ModelParameters.load(model, root),
                    model, model.toAbsolutePath().normalize().getFileName().toString(), settings, docs, steps, out,
                    save.equals("adapter"), dtype(saveDtype), checkpointEvery, resume,
                    data + " (" + docs.size() + " documents, " + total + " tokens)");
            TrainingJob.Result result = TrainingJob.run(spec, retriever, tokenizer, System.err);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("out", out.toString());
            json.put("mode", trainingMode.name().toLowerCase(java.util.Locale.ROOT));
            json.put("retrieval", !noRetrieval);
            json.put("steps", result.steps());
            json.put("documents", docs.size());
            json.put("data_tokens", total);
            json.put("tokens_trained", result.tokens());
            json.put("first_loss", result.firstLoss());
            json.put("final_loss", result.finalLoss());
            json.put("seconds", result.seconds());
            json.put("loss_plot", result.lossPlot().toString());
            Json.print(json);
        }
        return 0;
    }

    private Retriever retriever() {
        return switch (retrieverName) {
            case "hybrid" -> HybridRetriever.standard();
            case "bge-small" -> BgeSmallRetriever.create();
            case "bag-of-words" -> new HashingRetriever(256);
            default -> throw new IllegalArgumentException("unknown retriever " + retrieverName + "; use hybrid, bge-small or bag-of-words");
        };
    }

    static String dtype(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "float32", "fp32", "f32" -> "F32";
            case "float16", "fp16", "f16" -> "F16";
            case "bfloat16", "bf16" -> "BF16";
            default -> throw new IllegalArgumentException("unknown dtype " + name + "; use float32, float16 or bfloat16");
        };
    }
}
