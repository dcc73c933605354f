package dev.memlong.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.runtime.checkpoint.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The benchmark's random-weight LLaMA checkpoint as a Hugging Face model directory: {@code config.json}
 * (LlamaForCausalLM, transformers v4 style), {@code model.safetensors} (F32), {@code tokenizer.json} and
 * {@code tokenizer_config.json}. Our runtime and Jlama both load it.
 *
 * <p>Created once: {@link #ensure} writes everything into a temporary sibling directory and renames it into place
 * only when complete, so an interrupted creation is never taken for a checkpoint. A directory is reused only when
 * its {@code config.json} describes the same shape and seed.
 */
public final class BenchCheckpoint {

    /** Where {@code memlong bench decode} keeps the checkpoint unless {@code --data} says otherwise. */
    public static final Path DEFAULT_DATA_DIR = Path.of("data");
    static final String DIR_NAME = "bench/llama-110m";
    static final int MAX_POSITIONS = 2048;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchCheckpoint() {}

    /** The checkpoint directory under a data directory: {@code DATA/bench/llama-110m}. */
    public static Path directory(Path dataDir) {
        return dataDir.resolve(DIR_NAME);
    }

    /**
     * Returns {@code dir}, creating the checkpoint there first unless a complete one of this shape and seed exists.
     *
     * @param log progress lines (stderr in the CLI)
     */
    public static Path ensure(Path dir, ModelShape shape, long seed, java.util.function.Consumer<String> log) {
        ObjectNode config = config(shape, seed);
        if (matches(dir, config)) {
            return dir;
        }
        try {
            Files.createDirectories(dir.toAbsolutePath().getParent());
            if (Files.exists(dir)) {
                log.accept("replacing " + dir + " (another shape or seed, or incomplete)");
                deleteTree(dir);
            }
            Path tmp = Files.createTempDirectory(dir.toAbsolutePath().getParent(), dir.getFileName() + ".tmp-");
            try {
                log.accept(String.format("creating a %.1fM-parameter checkpoint in %s ...", shape.parameters() / 1e6, dir));
                long t0 = System.nanoTime();
                write(tmp, shape, seed, config);
                moveIntoPlace(tmp, dir);
                log.accept(String.format("checkpoint written in %.1f s", (System.nanoTime() - t0) / 1e9));
            } finally {
                deleteTree(tmp);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the benchmark checkpoint in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void write(Path tmp, ModelShape shape, long seed, ObjectNode config) throws IOException {
        RandomWeights weights = new RandomWeights(shape, seed);
        SafetensorsWriter.write(tmp.resolve("model.safetensors"), weights.tensors(), Map.of("format", "pt"), weights::bytes);
        JSON.writeValue(tmp.resolve("tokenizer.json").toFile(), BenchTokenizer.tokenizerJson(JSON, shape.vocab()));
        JSON.writeValue(tmp.resolve("tokenizer_config.json").toFile(), BenchTokenizer.tokenizerConfig(JSON));
        // config.json last: its presence with the right content marks the directory complete.
        JSON.writeValue(tmp.resolve("config.json").toFile(), config);
    }

    private static void moveIntoPlace(Path tmp, Path dir) throws IOException {
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir);
        }
    }

    private static boolean matches(Path dir, ObjectNode expected) {
        Path config = dir.resolve("config.json");
        if (!Files.isRegularFile(config) || !Files.isRegularFile(dir.resolve("model.safetensors"))
                || !Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            return false;
        }
        try {
            // Compare as parsed JSON on both sides: a long written as 42 reads back as an int node.
            return JSON.readTree(config.toFile()).equals(JSON.readTree(JSON.writeValueAsString(expected)));
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code config.json}, transformers v4 style; the generator's seed is recorded so a different one is rebuilt. */
    static ObjectNode config(ModelShape s, long seed) {
        ObjectNode c = JSON.createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", BenchTokenizer.BOS);
        c.put("eos_token_id", BenchTokenizer.EOS);
        c.put("head_dim", s.headDim());
        c.put("hidden_act", "silu");
        c.put("hidden_size", s.hidden());
        c.put("initializer_range", RandomWeights.PROJECTION_STD);
        c.put("intermediate_size", s.intermediate());
        c.put("max_position_embeddings", MAX_POSITIONS);
        c.put("mlp_bias", false);
        c.put("num_attention_heads", s.heads());
        c.put("num_hidden_layers", s.layers());
        c.put("num_key_value_heads", s.kvHeads());
        c.putNull("pad_token_id");
        c.put("pretraining_tp", 1);
        c.put("rms_norm_eps", 1e-6);
        c.putNull("rope_scaling");
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", s.tiedEmbedding());
        c.put("torch_dtype", "float32");
        c.put("transformers_version", "4.46.2");
        c.put("use_cache", true);
        c.put("vocab_size", s.vocab());
        c.put("memlong_bench_seed", seed);
        return c;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
