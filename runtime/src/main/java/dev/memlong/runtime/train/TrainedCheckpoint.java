package dev.memlong.runtime.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.checkpoint.SafetensorsCheckpoint;
import dev.memlong.runtime.checkpoint.SafetensorsWriter;
import dev.memlong.runtime.checkpoint.TensorInfo;
import dev.memlong.runtime.checkpoint.WeightSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes what training produced: a merged model directory ({@code model.safetensors} with every adapter folded into
 * its projection, loadable by the inference decoder) or the adapter alone ({@code adapter_model.safetensors} in
 * PEFT's naming, plus the trained norm weights, and {@code adapter_config.json}). Both carry metadata: base model,
 * memory layer, data range, metrics.
 */
public final class TrainedCheckpoint {

    /** Files of a model directory copied beside a merged checkpoint when present. */
    private static final List<String> MODEL_FILES = List.of("tokenizer.json", "tokenizer_config.json", "tokenizer.model",
            "generation_config.json", "chat_template.jinja", "special_tokens_map.json");
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final String ADAPTER_FILE = "adapter_model.safetensors";
    public static final String ADAPTER_CONFIG = "adapter_config.json";

    private TrainedCheckpoint() {}

    /**
     * Writes {@code params} with adapters merged ({@code W + scale·B·A}) to {@code outDir} as
     * {@code model.safetensors}, beside the base's {@code config.json} (its dtype set to {@code dtype}) and tokenizer
     * files, so that the directory loads as a model. With {@code outDir == baseDir} the weights and the config's
     * dtype are replaced in place.
     *
     * @param baseDir where config.json and tokenizer files are copied from; required, as the config cannot be
     *                written from the parameters alone
     * @param dtype   {@code F32}, {@code F16} or {@code BF16}; frozen tensors stay bit-identical when it is the
     *                dtype they were stored in
     * @throws IllegalArgumentException if {@code baseDir} is null
     * @throws CheckpointException      if {@code outDir} holds a shard index ({@code model.safetensors.index.json}):
     *                                  loaders prefer it over the merged file, so the directory would load the old
     *                                  weights; nothing is written then
     */
    public static void writeMerged(ModelParameters params, Path outDir, Path baseDir, String dtype,
                                   Map<String, String> metadata) {
        if (baseDir == null) {
            throw new IllegalArgumentException("a merged checkpoint needs the base model directory for its config.json");
        }
        Path staleIndex = outDir.resolve("model.safetensors.index.json");
        if (Files.exists(staleIndex)) {
            throw new CheckpointException(staleIndex + " exists and would be loaded instead of the merged "
                    + "model.safetensors; write the merged model to another directory or remove the shards");
        }
        createDirectories(outDir);
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        params.baseShapes().forEach((name, shape) -> tensors.add(new SafetensorsWriter.Tensor(name, dtype, shape)));
        SafetensorsWriter.write(outDir.resolve("model.safetensors"), tensors, metadata,
                name -> TensorBytes.encode(mergedValues(params, name), dtype));
        if (!baseDir.toAbsolutePath().normalize().equals(outDir.toAbsolutePath().normalize())) {
            for (String f : MODEL_FILES) {
                copyIfPresent(baseDir.resolve(f), outDir.resolve(f));
            }
        }
        // also in place (outDir == baseDir): the config is read whole before it is rewritten with the new dtype
        writeConfig(baseDir.resolve("config.json"), outDir.resolve("config.json"), dtype);
    }

    /**
     * The tensors a round above {@code memoryLayer} may change, in checkpoint order: every tensor of the layers
     * above it and the final norm. Everything else (embedding, layers {@code 0..memoryLayer}, {@code lm_head}) is
     * MemLong's frozen part.
     */
    public static List<String> upperTensorNames(ModelParameters params, int memoryLayer) {
        List<String> names = new ArrayList<>();
        for (String name : params.baseShapes().keySet()) {
            if (ParameterNames.layerOf(name) > memoryLayer || name.equals(ParameterNames.FINAL_NORM)) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * Writes the upper part of {@code params} (see {@link #upperTensorNames}) with adapters merged, in float32, to
     * one safetensors file: a model version that replaces only what training may change. Loaded back by
     * {@link #loadUpperLayers}, or by the inference decoder's {@code LlamaModel.replaceUpperLayers}.
     *
     * @throws IllegalArgumentException if the parameters train anything below or at {@code memoryLayer} (a version
     *                                  written this way would silently drop those changes)
     */
    public static void writeUpperLayers(ModelParameters params, int memoryLayer, Path file,
                                        Map<String, String> metadata) {
        List<String> upper = upperTensorNames(params, memoryLayer);
        for (String name : params.trainableNames()) {
            if (!upper.contains(name) && !isAdapter(name)) {
                throw new IllegalArgumentException(name + " trains, but it is not above memory layer " + memoryLayer);
            }
        }
        createDirectories(file.toAbsolutePath().getParent());
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        for (String name : upper) {
            tensors.add(new SafetensorsWriter.Tensor(name, "F32", params.baseShapes().get(name)));
        }
        SafetensorsWriter.write(file, tensors, metadata, name -> TensorBytes.encode(mergedValues(params, name), "F32"));
    }

    private static boolean isAdapter(String name) {
        return name.contains(".lora_A.") || name.contains(".lora_B.");
    }

    /**
     * Sets the upper part of {@code params} to the tensors of a file written by {@link #writeUpperLayers}; call it
     * before {@link ModelParameters#prepare}, so fresh adapters train on top of that version.
     *
     * @throws CheckpointException if the file lacks one of the upper tensors or holds any other tensor
     */
    public static void loadUpperLayers(ModelParameters params, int memoryLayer, Path file) {
        List<String> upper = upperTensorNames(params, memoryLayer);
        try (WeightSource src = SafetensorsCheckpoint.openFile(file)) {
            for (String name : src.tensors().keySet()) {
                if (!upper.contains(name)) {
                    throw new CheckpointException(file + " holds " + name + ", which is not above memory layer "
                            + memoryLayer);
                }
            }
            for (String name : upper) {
                if (!src.tensors().containsKey(name)) {
                    throw new CheckpointException(file + " has no tensor " + name);
                }
                if (!Arrays.equals(src.tensors().get(name).shape(), params.baseShapes().get(name))) {
                    throw new CheckpointException("tensor " + name + " in " + file + " has shape "
                            + Arrays.toString(src.tensors().get(name).shape()) + ", not "
                            + Arrays.toString(params.baseShapes().get(name)));
                }
                params.get(name).set(src.readFloat32(name).asFloatBuffer());
            }
        }
    }

    /** A base tensor's value with its adapter merged in. */
    static float[] mergedValues(ModelParameters params, String name) {
        int layer = ParameterNames.layerOf(name);
        String proj = projectionOf(name);
        if (layer < 0 || proj == null || !params.hasLora(layer)) {
            return params.values(name);
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray a = params.get(ParameterNames.loraA(layer, proj));
            NDArray b = params.get(ParameterNames.loraB(layer, proj));
            return params.get(name).add(b.matMul(a).mul(params.lora().scale())).toFloatArray();
        }
    }

    private static String projectionOf(String name) {
        for (String p : ParameterNames.LORA_TARGETS) {
            if (name.endsWith("self_attn." + p + ".weight")) {
                return p;
            }
        }
        return null;
    }

    /**
     * Writes the adapters and the other trained tensors (norms) in float32 to {@code outDir}: PEFT names
     * ({@code base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight}) and an {@code adapter_config.json}.
     *
     * <p>The trained norms are listed as {@code modules_to_save}, by their full module paths, as PEFT itself writes
     * them for the same training. Without that list PEFT 0.21 still loaded the norm tensors, but into the base
     * model's own weights, so {@code disable_adapter()} no longer gave the base model back (logits off by 0.07 on the
     * tiny fixture; 0 with the list). Short names ({@code "input_layernorm"}) would not do: PEFT wraps every layer's
     * norm by suffix and then wants tensors for the frozen layers too.
     */
    public static void writeAdapter(ModelParameters params, Path outDir, String baseModel, Map<String, String> metadata) {
        if (params.lora() == null) {
            throw new IllegalArgumentException("these parameters have no adapters; write a merged checkpoint instead");
        }
        createDirectories(outDir);
        List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
        Map<String, String> byFileName = new HashMap<>();
        for (String name : params.trainableNames()) {
            String fileName = ParameterNames.PEFT_PREFIX + name;
            tensors.add(new SafetensorsWriter.Tensor(fileName, "F32", params.get(name).getShape().getShape()));
            byFileName.put(fileName, name);
        }
        SafetensorsWriter.write(outDir.resolve(ADAPTER_FILE), tensors, metadata,
                f -> TensorBytes.encode(params.values(byFileName.get(f)), "F32"));
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("peft_type", "LORA");
        cfg.put("task_type", "CAUSAL_LM");
        cfg.put("base_model_name_or_path", baseModel);
        cfg.put("r", params.lora().rank());
        cfg.put("lora_alpha", params.lora().alpha());
        cfg.put("lora_dropout", params.lora().dropout());
        cfg.putArray("target_modules").addAll(ParameterNames.LORA_TARGETS.stream()
                .map(com.fasterxml.jackson.databind.node.TextNode::valueOf).toList());
        var layers = cfg.putArray("layers_to_transform");
        for (int i = 0; i < params.config().numLayers(); i++) {
            if (params.hasLora(i)) {
                layers.add(i);
            }
        }
        cfg.put("bias", "none");
        var modulesToSave = cfg.putArray("modules_to_save");
        for (String name : params.trainableNames()) {
            if (!name.contains(".lora_")) {
                modulesToSave.add(name.substring(0, name.length() - ".weight".length()));
            }
        }
        writeJson(outDir.resolve(ADAPTER_CONFIG), cfg);
    }

    /**
     * Loads an adapter written by {@link #writeAdapter} into parameters prepared with the same LoRA settings and
     * memory layer (their adapters and norms are replaced by the file's).
     *
     * @throws CheckpointException if {@code adapter_config.json} names other LoRA settings (rank, alpha, target
     *                             modules, adapted layers) than {@code params} were prepared with, uses a PEFT
     *                             variant that computes otherwise (rsLoRA, DoRA, LoRA biases, per-module ranks), or
     *                             a tensor is missing, extra or of another shape; nothing is replaced then
     */
    public static void loadAdapter(ModelParameters params, Path adapterDir) {
        if (params.lora() == null) {
            throw new IllegalArgumentException("these parameters have no adapters to load " + adapterDir + " into");
        }
        checkAdapterConfig(params, adapterDir);
        try (WeightSource src = SafetensorsCheckpoint.openFile(adapterDir.resolve(ADAPTER_FILE))) {
            Map<String, String> byFileName = new java.util.LinkedHashMap<>(); // trainable order: stable messages
            for (String name : params.trainableNames()) {
                byFileName.put(ParameterNames.PEFT_PREFIX + name, name);
            }
            for (String fileName : src.tensors().keySet()) {
                if (!byFileName.containsKey(fileName)) {
                    throw new CheckpointException("adapter " + adapterDir + " holds " + fileName
                            + ", which these parameters do not train");
                }
            }
            // every shape is checked before anything is replaced, so a refused adapter leaves params as they were
            for (Map.Entry<String, String> e : byFileName.entrySet()) {
                requireShape(src, e.getKey(), params.get(e.getValue()).getShape().getShape());
            }
            for (Map.Entry<String, String> e : byFileName.entrySet()) {
                params.get(e.getValue()).set(src.readFloat32(e.getKey()).asFloatBuffer());
            }
        }
    }

    /**
     * Compares what {@code adapter_config.json} stores with the settings {@code params} were prepared with. Dropout
     * is not compared: it acts only while training and does not change what the stored tensors mean.
     */
    private static void checkAdapterConfig(ModelParameters params, Path adapterDir) {
        Path file = adapterDir.resolve(ADAPTER_CONFIG);
        com.fasterxml.jackson.databind.JsonNode cfg;
        try {
            cfg = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + file + ": " + e.getMessage(), e);
        }
        LoraSettings lora = params.lora();
        if (!"LORA".equals(cfg.path("peft_type").asText("LORA"))) {
            throw new CheckpointException(file + " is a " + cfg.path("peft_type").asText() + " adapter, not LORA");
        }
        if (cfg.path("r").asInt(-1) != lora.rank()) {
            throw new CheckpointException(file + " has LoRA rank r=" + cfg.path("r").asText() + ", but the parameters"
                    + " were prepared with rank " + lora.rank());
        }
        if (Float.compare((float) cfg.path("lora_alpha").asDouble(Double.NaN), lora.alpha()) != 0) {
            throw new CheckpointException(file + " has lora_alpha " + cfg.path("lora_alpha").asText() + ", but the"
                    + " parameters were prepared with alpha " + lora.alpha());
        }
        // PEFT variants that change what the same tensors compute: refused, not loaded as plain LoRA
        for (String flag : List.of("use_rslora", "use_dora", "lora_bias", "use_qalora")) {
            if (cfg.path(flag).asBoolean(false)) {
                throw new CheckpointException(file + " sets " + flag + "; only plain LoRA (scaling lora_alpha / r) is"
                        + " supported");
            }
        }
        if (!"none".equals(cfg.path("bias").asText("none"))) {
            throw new CheckpointException(file + " has bias \"" + cfg.path("bias").asText() + "\"; only \"none\" is"
                    + " supported");
        }
        for (String pattern : List.of("rank_pattern", "alpha_pattern")) {
            if (!cfg.path(pattern).isMissingNode() && !cfg.path(pattern).isNull() && !cfg.path(pattern).isEmpty()) {
                throw new CheckpointException(file + " sets a " + pattern + " " + cfg.path(pattern) + "; one rank and"
                        + " alpha for every adapted module is supported");
            }
        }
        List<String> targets = new ArrayList<>();
        cfg.path("target_modules").forEach(n -> targets.add(n.asText()));
        if (!targets.isEmpty() && !new java.util.HashSet<>(targets).equals(new java.util.HashSet<>(ParameterNames.LORA_TARGETS))) {
            throw new CheckpointException(file + " adapts " + targets + ", but the parameters adapt "
                    + ParameterNames.LORA_TARGETS);
        }
        List<Integer> stored = new ArrayList<>();
        cfg.path("layers_to_transform").forEach(n -> stored.add(n.asInt()));
        List<Integer> adapted = new ArrayList<>();
        for (int i = 0; i < params.config().numLayers(); i++) {
            if (params.hasLora(i)) {
                adapted.add(i);
            }
        }
        if (!stored.isEmpty() && !stored.equals(adapted)) {
            throw new CheckpointException(file + " adapts layers " + stored + ", but the parameters adapt layers "
                    + adapted + " (another memory layer or model)");
        }
    }

    /**
     * Checks that tensor {@code key} of {@code src} exists and has {@code expected}'s shape. Needed before every
     * {@code NDArray.set} from a checkpoint: DJL copies a too-long buffer's first elements with only a logged
     * warning, so a checkpoint of another model or LoRA rank would otherwise load as silent garbage.
     */
    static void requireShape(WeightSource src, String key, long[] expected) {
        TensorInfo info = src.tensors().get(key);
        if (info == null) {
            throw new CheckpointException("missing tensor " + key + " in " + src.description());
        }
        if (!Arrays.equals(info.shape(), expected)) {
            throw new CheckpointException("tensor " + key + " in " + src.description() + " has shape "
                    + Arrays.toString(info.shape()) + ", but the parameter it restores has shape "
                    + Arrays.toString(expected));
        }
    }

    /** The LoRA settings in an adapter directory's {@code adapter_config.json}. */
    public static LoraSettings adapterSettings(Path adapterDir) {
        try {
            var cfg = JSON.readTree(Files.readString(adapterDir.resolve(ADAPTER_CONFIG)));
            return new LoraSettings(cfg.path("r").asInt(), (float) cfg.path("lora_alpha").asDouble(),
                    (float) cfg.path("lora_dropout").asDouble());
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + adapterDir.resolve(ADAPTER_CONFIG) + ": " + e.getMessage(), e);
        }
    }

    /** The lowest layer with adapters in an adapter directory. */
    public static int firstAdaptedLayer(Path adapterDir) {
        try {
            var cfg = JSON.readTree(Files.readString(adapterDir.resolve(ADAPTER_CONFIG)));
            return cfg.path("layers_to_transform").get(0).asInt();
        } catch (IOException | NullPointerException e) {
            throw new CheckpointException("cannot read layers_to_transform of " + adapterDir.resolve(ADAPTER_CONFIG), e);
        }
    }

    /** The {@code __metadata__} of a safetensors file. */
    public static Map<String, String> metadata(Path safetensorsFile) {
        try (var ch = java.nio.channels.FileChannel.open(safetensorsFile)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            ByteBuffer header = ByteBuffer.allocate(Math.toIntExact(len.getLong(0)));
            ch.read(header, 8);
            var meta = JSON.readTree(new String(header.array(), java.nio.charset.StandardCharsets.UTF_8)).path("__metadata__");
            Map<String, String> out = new HashMap<>();
            meta.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
            return out;
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + safetensorsFile + ": " + e.getMessage(), e);
        }
    }

    private static void writeConfig(Path from, Path to, String dtype) {
        try {
            ObjectNode cfg = (ObjectNode) JSON.readTree(Files.readString(from));
            cfg.put("torch_dtype", TensorBytes.toConfig(dtype));
            if (cfg.has("dtype")) {
                cfg.put("dtype", TensorBytes.toConfig(dtype));
            }
            writeJson(to, cfg);
        } catch (IOException e) {
            throw new CheckpointException("cannot copy " + from + ": " + e.getMessage(), e);
        }
    }

    static void writeJson(Path file, Object node) {
        try {
            Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void copyIfPresent(Path from, Path to) {
        try {
            if (Files.exists(from)) {
                Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot copy " + from + ": " + e.getMessage(), e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new CheckpointException("cannot create " + dir + ": " + e.getMessage(), e);
        }
    }
}
