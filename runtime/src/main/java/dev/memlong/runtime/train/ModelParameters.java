package dev.memlong.runtime.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.memlong.runtime.checkpoint.CheckpointException;
import dev.memlong.runtime.checkpoint.Checkpoints;
import dev.memlong.runtime.checkpoint.TensorInfo;
import dev.memlong.runtime.checkpoint.WeightSource;
import dev.memlong.runtime.config.ModelConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The parameters of a decoder being trained, unfused and by Hugging Face name, in float32 (the inference decoder
 * fuses and folds its weights; training needs them as the checkpoint has them). Owns one NDManager. Which
 * parameters train is decided by {@link #prepare}; LoRA adapters are added there.
 */
public final class ModelParameters implements AutoCloseable {

    private final ModelConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> tensors = new LinkedHashMap<>();
    private final Map<String, long[]> baseShapes;
    private final Set<String> trainable = new LinkedHashSet<>();
    private final boolean tied;
    private LoraSettings lora;
    private int firstLoraLayer = Integer.MAX_VALUE;

    private ModelParameters(ModelConfig config, NDManager manager, boolean tied) {
        this.config = config;
        this.manager = manager;
        this.tied = tied;
        this.baseShapes = ParameterNames.baseShapes(config, !tied);
    }

    /** Reads every tensor of a Hugging Face model directory (safetensors or PyTorch pickle), widened to float32. */
    public static ModelParameters load(Path modelDir, NDManager parent) {
        ModelConfig config = ModelConfig.load(modelDir);
        try (WeightSource src = Checkpoints.open(modelDir)) {
            boolean tied = config.tieWordEmbeddings() && !src.tensors().containsKey(ParameterNames.LM_HEAD);
            ModelParameters p = new ModelParameters(config, parent.newSubManager(), tied);
            try {
                for (Map.Entry<String, long[]> e : p.baseShapes.entrySet()) {
                    TensorInfo info = src.tensors().get(e.getKey());
                    if (info == null) {
                        throw new CheckpointException("missing tensor " + e.getKey() + " in " + src.description());
                    }
                    if (!Arrays.equals(info.shape(), e.getValue())) {
                        throw new CheckpointException("tensor " + e.getKey() + " has shape " + Arrays.toString(info.shape())
                                + ", but config.json implies " + Arrays.toString(e.getValue()));
                    }
                    p.tensors.put(e.getKey(), p.manager.create(src.readFloat32(e.getKey()).asFloatBuffer(),
                            new Shape(e.getValue()), DataType.FLOAT32));
                }
            } catch (RuntimeException e) {
                p.close();
                throw e;
            }
            return p;
        }
    }

    /**
     * A freshly initialised model as transformers initialises LLaMA: matrices from N(0, 0.02), norm weights 1,
     * biases 0; deterministic for a seed.
     */
    public static ModelParameters initialize(ModelConfig config, long seed, NDManager parent) {
        ModelParameters p = new ModelParameters(config, parent.newSubManager(), config.tieWordEmbeddings());
        Random rnd = new Random(seed);
        for (Map.Entry<String, long[]> e : p.baseShapes.entrySet()) {
            long[] shape = e.getValue();
            Shape s = new Shape(shape);
            NDArray a;
            if (shape.length == 1) {
                a = e.getKey().endsWith(".bias") ? p.manager.zeros(s) : p.manager.ones(s);
            } else {
                float[] v = new float[Math.toIntExact(s.size())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (rnd.nextGaussian() * 0.02);
                }
                a = p.manager.create(v, s);
            }
            p.tensors.put(e.getKey(), a);
        }
        return p;
    }

    /**
     * Marks the trainable parameters for a mode and, for {@link TrainingMode#LORA_UPPER}, adds fresh adapters on
     * q/k/v/o of every layer above {@code memoryLayer}. Call once.
     */
    public void prepare(TrainingMode mode, int memoryLayer, LoraSettings loraSettings, long seed) {
        if (!trainable.isEmpty() || lora != null) {
            throw new IllegalStateException("parameters already prepared for training");
        }
        int above = memoryLayer + 1;
        switch (mode) {
            case FULL_ALL -> trainable.addAll(baseShapes.keySet());
            case FULL_UPPER -> {
                for (String n : baseShapes.keySet()) {
                    if (ParameterNames.layerOf(n) >= above || n.equals(ParameterNames.FINAL_NORM)) {
                        trainable.add(n);
                    }
                }
            }
            case LORA_UPPER -> {
                this.lora = loraSettings;
                this.firstLoraLayer = above;
                Random rnd = new Random(seed);
                for (int i = above; i < config.numLayers(); i++) {
                    for (String proj : ParameterNames.LORA_TARGETS) {
                        long[] w = baseShapes.get(ParameterNames.projection(i, proj));
                        // PEFT: A ~ kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)); B = 0
                        float bound = (float) (1.0 / Math.sqrt(w[1]));
                        float[] a = new float[Math.toIntExact(loraSettings.rank() * w[1])];
                        for (int k = 0; k < a.length; k++) {
                            a[k] = (rnd.nextFloat() * 2 - 1) * bound;
                        }
                        String an = ParameterNames.loraA(i, proj);
                        String bn = ParameterNames.loraB(i, proj);
                        tensors.put(an, manager.create(a, new Shape(loraSettings.rank(), w[1])));
                        tensors.put(bn, manager.zeros(new Shape(w[0], loraSettings.rank())));
                        trainable.add(an);
                        trainable.add(bn);
                    }
                    trainable.add(ParameterNames.layer(i, "input_layernorm.weight"));
                    trainable.add(ParameterNames.layer(i, "post_attention_layernorm.weight"));
                }
                trainable.add(ParameterNames.FINAL_NORM);
            }
        }
    }

    public ModelConfig config() {
        return config;
    }

    NDManager manager() {
        return manager;
    }

    /** Whether {@code lm_head} is the embedding (tied) and not a tensor of its own. */
    public boolean tiedEmbeddings() {
        return tied;
    }

    /** The tensor of a name; {@code lm_head.weight} resolves to the embedding when tied. */
    public NDArray get(String name) {
        NDArray a = tensors.get(tied && name.equals(ParameterNames.LM_HEAD) ? ParameterNames.EMBEDDING : name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return a;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** Base tensor names and shapes in checkpoint order (no adapters). */
    public Map<String, long[]> baseShapes() {
        return Collections.unmodifiableMap(baseShapes);
    }

    /** Names of the trainable parameters, in a fixed order. */
    public List<String> trainableNames() {
        return List.copyOf(trainable);
    }

    public boolean isTrainable(String name) {
        return trainable.contains(name);
    }

    /** The LoRA settings, or null when no adapters were added. */
    public LoraSettings lora() {
        return lora;
    }

    /** Whether layer {@code layer} has LoRA adapters. */
    public boolean hasLora(int layer) {
        return lora != null && layer >= firstLoraLayer;
    }

    public long count(List<String> names) {
        long n = 0;
        for (String name : names) {
            n += get(name).size();
        }
        return n;
    }

    public long baseCount() {
        return count(new ArrayList<>(baseShapes.keySet()));
    }

    /** A tensor's values, row-major. */
    public float[] values(String name) {
        return get(name).toFloatArray();
    }

    @Override
    public void close() {
        manager.close();
    }
}
