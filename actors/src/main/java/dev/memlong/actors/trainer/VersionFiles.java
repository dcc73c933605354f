package dev.memlong.actors.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.actors.scheduler.WeightVersion;
import dev.memlong.runtime.train.ModelParameters;
import dev.memlong.runtime.train.TrainedCheckpoint;
import dev.memlong.storage.ModelVersion;
import dev.memlong.storage.TrainedRange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The files of published model versions: {@code <dir>/v<N>/upper.safetensors} (the layers above the memory layer
 * and the final norm, merged, float32, with the version's metadata in the safetensors header) and
 * {@code <dir>/v<N>/version.json} (the same metadata, readable). The store's record of a version names its file
 * relative to {@code dir}, so the data directory can move. A version directory appears atomically (written beside,
 * then renamed).
 */
final class VersionFiles {

    static final String UPPER_LAYERS = "upper.safetensors";
    static final String METADATA = "version.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;

    VersionFiles(Path dir) {
        this.dir = dir;
    }

    Path directory() {
        return dir;
    }

    /** The store's {@code artifact} of a version: its file, relative to the versions directory. */
    static String artifact(long version) {
        return "v" + version + "/" + UPPER_LAYERS;
    }

    /** The weights a device loads for {@code version} (0: the base model). */
    WeightVersion weights(long version, String artifact) {
        return version == 0 ? WeightVersion.BASE : new WeightVersion(version, dir.resolve(artifact));
    }

    /** Writes version {@code v}'s files from the trained parameters; returns the weights file. */
    Path write(ModelParameters params, ModelVersion v) {
        Path target = dir.resolve("v" + v.version());
        Path staging = dir.resolve(".v" + v.version() + ".writing");
        try {
            Files.createDirectories(dir);
            deleteTree(staging);
            deleteTree(target); // left by a crash before the store recorded it (the store is the truth)
            Files.createDirectories(staging);
            TrainedCheckpoint.writeUpperLayers(params, v.memoryLayer(), staging.resolve(UPPER_LAYERS), metadata(v));
            Files.writeString(staging.resolve(METADATA),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json(v)) + "\n");
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write model version " + v.version() + " to " + target, e);
        }
        return target.resolve(UPPER_LAYERS);
    }

    /** Removes a version's files (one written but never recorded). */
    void delete(long version) {
        try {
            deleteTree(dir.resolve("v" + version));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete model version " + version + " in " + dir, e);
        }
    }

    private static Map<String, String> metadata(ModelVersion v) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("base_model", v.modelId());
        m.put("version", String.valueOf(v.version()));
        m.put("parent_version", String.valueOf(v.parentVersion()));
        m.put("memory_layer", String.valueOf(v.memoryLayer()));
        m.put("mode", v.trainingMode());
        m.put("created_at_ms", String.valueOf(v.createdAtMs()));
        m.put("heldout_loss_before", String.valueOf(v.heldoutLossBefore()));
        m.put("heldout_loss_after", String.valueOf(v.heldoutLossAfter()));
        m.put("tokens_trained", String.valueOf(v.tokensTrained()));
        m.put("steps", String.valueOf(v.steps()));
        m.put("data_range", ranges(v).toString());
        return m;
    }

    private static ObjectNode json(ModelVersion v) {
        ObjectNode o = JSON.createObjectNode();
        o.put("base_model", v.modelId());
        o.put("version", v.version());
        o.put("parent_version", v.parentVersion());
        o.put("memory_layer", v.memoryLayer());
        o.put("mode", v.trainingMode());
        o.put("created_at_ms", v.createdAtMs());
        o.put("heldout_loss_before", v.heldoutLossBefore());
        o.put("heldout_loss_after", v.heldoutLossAfter());
        o.put("tokens_trained", v.tokensTrained());
        o.put("heldout_tokens", v.heldoutTokens());
        o.put("steps", v.steps());
        o.set("data_range", ranges(v));
        return o;
    }

    private static ArrayNode ranges(ModelVersion v) {
        ArrayNode a = JSON.createArrayNode();
        for (TrainedRange r : v.dataRange()) {
            a.addObject().put("tenant", r.key().tenant()).put("conversation", r.key().conversationId())
                    .put("from_seq", r.fromSeq()).put("to_seq", r.toSeq())
                    .put("conversation_created_at_ms", r.conversationCreatedAtMs())
                    .put("conversation_incarnation", Long.toUnsignedString(r.conversationIncarnation()))
                    .put("heldout", r.heldout());
        }
        return a;
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
