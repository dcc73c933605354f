package dev.memlong.runtime.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.memlong.memory.ModelMemoryLayout;
import dev.memlong.runtime.checkpoint.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads the MemLong layout a model declares: the optional {@code "memlong"} object of its {@code config.json}
 * ({@code memory_layer}, {@code retrieval_layers}, {@code chunk_size}, {@code top_k}, {@code local_window}), which
 * {@code memlong train-demo} writes. Transformers ignores unknown config keys, so the model stays a plain Hugging
 * Face checkpoint. A malformed object is a {@link CheckpointException}: serving a model with a memory layout other
 * than the one it was trained with would fail silently.
 */
public final class MemoryLayoutReader {

    private static final Set<String> KEYS = Set.of("memory_layer", "retrieval_layers", "chunk_size", "top_k",
            "local_window", "next_chunks");

    private MemoryLayoutReader() {}

    public static ModelMemoryLayout read(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        }
        JsonNode m = root == null ? null : root.get("memlong");
        if (m == null || m.isNull()) {
            return ModelMemoryLayout.NONE;
        }
        if (!m.isObject()) {
            throw new CheckpointException(file + ": \"memlong\" must be an object");
        }
        m.fieldNames().forEachRemaining(k -> {
            if (!KEYS.contains(k)) {
                throw new CheckpointException(file + ": unknown key memlong." + k + "; the keys are " + new TreeSet<>(KEYS));
            }
        });
        List<Integer> layers = null;
        if (m.has("retrieval_layers")) {
            JsonNode r = m.get("retrieval_layers");
            if (!r.isArray() || r.isEmpty()) {
                throw new CheckpointException(file + ": memlong.retrieval_layers must be a non-empty list of layers");
            }
            layers = new ArrayList<>();
            for (JsonNode n : r) {
                layers.add(integer(n, "retrieval_layers", file));
            }
        }
        return new ModelMemoryLayout(optional(m, "memory_layer", file), layers, optional(m, "chunk_size", file),
                optional(m, "top_k", file), optional(m, "local_window", file), optional(m, "next_chunks", file));
    }

    private static Integer optional(JsonNode m, String key, Path file) {
        return m.has(key) ? integer(m.get(key), key, file) : null;
    }

    private static int integer(JsonNode n, String key, Path file) {
        if (!n.isIntegralNumber() || n.asInt() < 0) {
            throw new CheckpointException(file + ": memlong." + key + " must be a non-negative integer, got " + n);
        }
        return n.asInt();
    }
}
