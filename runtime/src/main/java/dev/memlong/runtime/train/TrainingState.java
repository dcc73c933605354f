package dev.memlong.runtime.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.checkpoint.SafetensorsCheckpoint;
import dev.memlong.runtime.checkpoint.SafetensorsWriter;
import dev.memlong.runtime.checkpoint.WeightSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint to resume training from: the trainable parameters and AdamW's moments
 * ({@code trainer_state.safetensors}, float32) and the step, the data position and the loss history
 * ({@code trainer_state.json}). Memory banks are not saved: after a resume each slot's memory starts empty and fills
 * again from the point it resumes at.
 */
public final class TrainingState {

    public static final String TENSORS = "trainer_state.safetensors";
    public static final String JSON_FILE = "trainer_state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private TrainingState() {}

    /** Writes the trainer's state to {@code dir} (created if needed); {@code losses} is the per-step loss history. */
    public static void save(Trainer trainer, Path dir, List<Double> losses) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new CheckpointException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        ModelParameters params = trainer.parameters();
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (String name : params.trainableNames()) {
            long[] shape = params.get(name).getShape().getShape();
            tensors.add(new SafetensorsWriter.Tensor("param/" + name, "F32", shape));
            tensors.add(new SafetensorsWriter.Tensor("adam_m/" + name, "F32", shape));
            tensors.add(new SafetensorsWriter.Tensor("adam_v/" + name, "F32", shape));
        }
        SafetensorsWriter.write(dir.resolve(TENSORS), tensors, Map.of("step", String.valueOf(trainer.step())), key -> {
            String kind = key.substring(0, key.indexOf('/'));
            String name = key.substring(key.indexOf('/') + 1);
            float[] v = switch (kind) {
                case "param" -> params.values(name);
                case "adam_m" -> trainer.optimizer().moments(name)[0].toFloatArray();
                default -> trainer.optimizer().moments(name)[1].toFloatArray();
            };
            return TensorBytes.encode(v, "F32");
        });
        ObjectNode json = JSON.createObjectNode();
        json.put("step", trainer.step());
        json.put("optimizer_steps", trainer.optimizer().steps());
        json.put("mode", trainer.settings().mode().name());
        json.put("seed", trainer.settings().seed());
        LoraSettings lora = trainer.parameters().lora();
        if (lora != null) {
            // a LoRA scale (alpha / rank) change keeps every shape, so only these fields can reveal it on resume
            json.putObject("lora").put("r", lora.rank()).put("lora_alpha", lora.alpha());
        }
        ArrayNode pos = json.putArray("slot_positions");
        for (int[] p : trainer.streams().position()) {
            pos.addArray().add(p[0]).add(p[1]);
        }
        ArrayNode history = json.putArray("losses");
        losses.forEach(history::add);
        TrainedCheckpoint.writeJson(dir.resolve(JSON_FILE), json);
    }

    /**
     * Restores a state written by {@link #save} into a trainer built with the same model, settings and data.
     *
     * @return the loss history
     */
    public static List<Double> restore(Trainer trainer, Path dir) {
        JsonNode json;
        try {
            json = JSON.readTree(Files.readString(dir.resolve(JSON_FILE)));
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + dir.resolve(JSON_FILE) + ": " + e.getMessage(), e);
        }
        if (!trainer.settings().mode().name().equals(json.path("mode").asText())) {
            throw new IllegalArgumentException("checkpoint " + dir + " was trained in mode " + json.path("mode").asText()
                    + ", not " + trainer.settings().mode());
        }
        checkLora(trainer.parameters().lora(), json.path("lora"), dir);
        ModelParameters params = trainer.parameters();
        Map<String, float[]> m = new HashMap<>();
        Map<String, float[]> v = new HashMap<>();
        try (WeightSource src = SafetensorsCheckpoint.openFile(dir.resolve(TENSORS))) {
            for (String key : src.tensors().keySet()) {
                String name = key.substring(key.indexOf('/') + 1);
                if (!params.isTrainable(name)) {
                    throw new CheckpointException(src.description() + " holds " + key + ", but " + name
                            + " does not train here (another model, memory layer or mode)");
                }
            }
            // every shape is checked before anything is replaced, so a refused checkpoint leaves the trainer as it was
            for (String name : params.trainableNames()) {
                long[] shape = params.get(name).getShape().getShape();
                for (String kind : List.of("param/", "adam_m/", "adam_v/")) {
                    TrainedCheckpoint.requireShape(src, kind + name, shape);
                }
            }
            for (String name : params.trainableNames()) {
                params.get(name).set(src.readFloat32("param/" + name).asFloatBuffer());
                m.put(name, floats(src, "adam_m/" + name));
                v.put(name, floats(src, "adam_v/" + name));
            }
        }
        trainer.optimizer().restore(json.path("optimizer_steps").asInt(), m, v);
        trainer.restoreStep(json.path("step").asInt());
        JsonNode pos = json.path("slot_positions");
        int[][] position = new int[pos.size()][];
        for (int i = 0; i < position.length; i++) {
            position[i] = new int[] {pos.get(i).get(0).asInt(), pos.get(i).get(1).asInt()};
        }
        trainer.streams().restore(position);
        List<Double> losses = new ArrayList<>();
        json.path("losses").forEach(n -> losses.add(n.asDouble()));
        return losses;
    }

    /** Refuses a checkpoint saved with other LoRA settings; checkpoints saved before they were recorded pass. */
    private static void checkLora(LoraSettings lora, JsonNode saved, Path dir) {
        if (saved.isMissingNode() || lora == null) {
            return; // without adapters on either side, the tensor names and shapes already tell
        }
        if (saved.path("r").asInt(-1) != lora.rank()
                || Float.compare((float) saved.path("lora_alpha").asDouble(Double.NaN), lora.alpha()) != 0) {
            throw new CheckpointException("checkpoint " + dir + " was trained with LoRA r=" + saved.path("r").asText()
                    + ", alpha=" + saved.path("lora_alpha").asText() + ", not r=" + lora.rank() + ", alpha="
                    + lora.alpha());
        }
    }

    private static float[] floats(WeightSource src, String name) {
        var b = src.readFloat32(name).asFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }
}
