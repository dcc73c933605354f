package dev.memlong.runtime.train;

import dev.memlong.memory.MemorySettings;

/**
 * Everything a training run needs besides the model and the data.
 *
 * @param mode          which parameters train
 * @param lora          adapter shape (used by {@link TrainingMode#LORA_UPPER} only)
 * @param memory        MemLong settings: the memory layer (the frozen boundary), retrieval layers, chunk size,
 *                      top-k, bank capacity and K/V dtype
 * @param retrieval     whether MemLong retrieval runs in the loop; off, the model is a plain causal decoder
 *                      (pretraining with a short window)
 * @param schedule      learning rate per optimizer step
 * @param weightDecay   AdamW's decoupled weight decay (not applied to norm weights and biases)
 * @param beta1         AdamW's first-moment decay
 * @param beta2         AdamW's second-moment decay
 * @param epsilon       AdamW's epsilon
 * @param clipNorm      largest global gradient L2 norm (0 = no clipping)
 * @param accumulation  micro-batches whose gradients are summed into one optimizer step
 * @param batchSlots    sequences per micro-batch; each slot reads its own data stream consecutively, so its
 *                      memory builds up across steps
 * @param segmentLength tokens per slot per micro-batch (the local window while training)
 * @param workers       data-parallel training workers; the slots are split between them, gradients summed
 * @param seed          seeds adapter initialisation, dropout and from-scratch initialisation
 * @param memorySegments in-graph memory (0 = none): memory is the slot's previous {@code memorySegments} segments of
 *                      the same document (fewer at its start), recomputed in the same graph (pre-RoPE keys and values
 *                      of the memory layer, at position 0 as always), so gradients reach the layers that write
 *                      memory. For pretraining a model from scratch to write memory it can read: MemLong's own stage
 *                      detaches memory, so the layers up to the memory layer never learn what to store. Excludes
 *                      retrieval (nothing is retrieved; the previous segments are the memory)
 * @param memoryScoreBias added to every memory attention score at step 0, falling linearly to 0 at half the run
 *                      (0 = none). A training-only aid for a pretrained model whose heads give memory no weight:
 *                      where attention on memory is ~0 its gradient is ~0 too, so reading memory is never learnt.
 *                      Inference adds nothing; by the second half the model reads memory without it.
 * @param positionSpread with memory read ("Zero" positions: memory at 0, local tokens from 1), each micro-batch's
 *                      segments start at a position drawn from {@code 1 .. 1 + positionSpread} (seeded by step and
 *                      micro-batch, so any worker split draws the same) instead of always at 1 (0 = always 1). Local
 *                      attention is relative and does not notice; a query's score against memory keys (unrotated)
 *                      does. At inference a question sits anywhere in a window of up to {@code local_window} tokens,
 *                      so segments shorter than the window train the queries at positions 1..segmentLength only
 *                      unless spread ({@code train-demo --position-spread 128} for segments of 128 in a 256-token window; measured on the
 *                      demo model it changed nothing, so its default is 0)
 * @param targetWeights per-token loss weights ({@link TargetWeights}; null or {@link TargetWeights#NONE}: the plain
 *                      mean cross-entropy)
 */
public record TrainingSettings(TrainingMode mode, LoraSettings lora, MemorySettings memory, boolean retrieval,
                               LrSchedule schedule, double weightDecay, double beta1, double beta2, double epsilon,
                               double clipNorm, int accumulation, int batchSlots, int segmentLength, int workers,
                               long seed, int memorySegments, double memoryScoreBias, int positionSpread,
                               TargetWeights targetWeights) {

    /** Settings with every target weighing 1. */
    public TrainingSettings(TrainingMode mode, LoraSettings lora, MemorySettings memory, boolean retrieval,
                            LrSchedule schedule, double weightDecay, double beta1, double beta2, double epsilon,
                            double clipNorm, int accumulation, int batchSlots, int segmentLength, int workers,
                            long seed, int memorySegments, double memoryScoreBias, int positionSpread) {
        this(mode, lora, memory, retrieval, schedule, weightDecay, beta1, beta2, epsilon, clipNorm, accumulation,
                batchSlots, segmentLength, workers, seed, memorySegments, memoryScoreBias, positionSpread,
                TargetWeights.NONE);
    }

    /** Settings with in-graph memory or a memory score bias, segments always starting at position 1. */
    public TrainingSettings(TrainingMode mode, LoraSettings lora, MemorySettings memory, boolean retrieval,
                            LrSchedule schedule, double weightDecay, double beta1, double beta2, double epsilon,
                            double clipNorm, int accumulation, int batchSlots, int segmentLength, int workers,
                            long seed, int memorySegments, double memoryScoreBias) {
        this(mode, lora, memory, retrieval, schedule, weightDecay, beta1, beta2, epsilon, clipNorm, accumulation,
                batchSlots, segmentLength, workers, seed, memorySegments, memoryScoreBias, 0);
    }

    /** Settings without in-graph memory (the usual case). */
    public TrainingSettings(TrainingMode mode, LoraSettings lora, MemorySettings memory, boolean retrieval,
                            LrSchedule schedule, double weightDecay, double beta1, double beta2, double epsilon,
                            double clipNorm, int accumulation, int batchSlots, int segmentLength, int workers,
                            long seed) {
        this(mode, lora, memory, retrieval, schedule, weightDecay, beta1, beta2, epsilon, clipNorm, accumulation,
                batchSlots, segmentLength, workers, seed, 0, 0, 0);
    }

    /** Whether memory is in the graph: the slot's previous {@link #memorySegments} segments, gradients flowing. */
    public boolean memoryGradients() {
        return memorySegments > 0;
    }

    public TrainingSettings {
        targetWeights = targetWeights == null ? TargetWeights.NONE : targetWeights;
        if (mode == null || memory == null || schedule == null) {
            throw new IllegalArgumentException("mode, memory settings and schedule are required");
        }
        if (mode == TrainingMode.LORA_UPPER && lora == null) {
            throw new IllegalArgumentException("LoRA training needs LoRA settings");
        }
        if (accumulation <= 0 || batchSlots <= 0 || segmentLength <= 1 || workers <= 0) {
            throw new IllegalArgumentException("accumulation, batch slots, workers must be positive and segment length > 1");
        }
        if (workers > batchSlots) {
            throw new IllegalArgumentException(workers + " workers cannot share " + batchSlots + " batch slots");
        }
        if (retrieval && segmentLength % memory.chunkSize() != 0) {
            throw new IllegalArgumentException("segment length " + segmentLength + " is not a multiple of chunk size "
                    + memory.chunkSize() + " (segments move to memory as whole chunks)");
        }
        if (memoryScoreBias < 0 || !Double.isFinite(memoryScoreBias)) {
            throw new IllegalArgumentException("memory score bias must be finite and >= 0, got " + memoryScoreBias);
        }
        if (positionSpread < 0 || (positionSpread > 0 && !retrieval && memorySegments == 0)) {
            throw new IllegalArgumentException("position spread must be >= 0, and is only for training that reads "
                    + "memory (retrieval or in-graph memory), got " + positionSpread);
        }
        if (memorySegments < 0) {
            throw new IllegalArgumentException("in-graph memory segments must be >= 0, got " + memorySegments);
        }
        if (memorySegments > 0 && retrieval) {
            throw new IllegalArgumentException("in-graph memory (the previous segment) and retrieval exclude each other");
        }
        if (weightDecay < 0 || beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || !(epsilon > 0) || clipNorm < 0) {
            throw new IllegalArgumentException("invalid AdamW settings");
        }
    }

    /** The reference recipe's optimizer values (lr 5e-5, weight decay 1e-4) with the given shape of run. */
    public static TrainingSettings stage2(MemorySettings memory, LrSchedule schedule, int batchSlots, int segmentLength,
                                          int accumulation, int workers, long seed) {
        return new TrainingSettings(TrainingMode.LORA_UPPER, LoraSettings.reference(), memory, true, schedule, 1e-4,
                0.9, 0.999, 1e-8, 1.0, accumulation, batchSlots, segmentLength, workers, seed);
    }

    public TrainingSettings withWorkers(int n) {
        return new TrainingSettings(mode, lora, memory, retrieval, schedule, weightDecay, beta1, beta2, epsilon,
                clipNorm, accumulation, batchSlots, segmentLength, n, seed, memorySegments, memoryScoreBias, positionSpread,
                targetWeights);
    }

    public TrainingSettings withTargetWeights(TargetWeights w) {
        return new TrainingSettings(mode, lora, memory, retrieval, schedule, weightDecay, beta1, beta2, epsilon,
                clipNorm, accumulation, batchSlots, segmentLength, workers, seed, memorySegments, memoryScoreBias,
                positionSpread, w);
    }

    public TrainingSettings withMode(TrainingMode m, boolean withRetrieval) {
        return new TrainingSettings(m, lora, memory, withRetrieval, schedule, weightDecay, beta1, beta2, epsilon,
                clipNorm, accumulation, batchSlots, segmentLength, workers, seed, withRetrieval ? 0 : memorySegments,
                memoryScoreBias, withRetrieval || memorySegments > 0 ? positionSpread : 0, targetWeights);
    }

    /** MemLong's positions ("Zero" mode: memory at 0, local tokens from 1) whenever the model reads memory. */
    public boolean readsMemory() {
        return retrieval || memoryGradients();
    }

    /**
     * The position of the first token of micro-batch {@code micro} of {@code step}: 0 without memory (a plain causal
     * decoder), else 1 plus a seeded draw from {@code 0 .. positionSpread}, the same on every worker.
     */
    public int firstPosition(int step, int micro) {
        if (!readsMemory()) {
            return 0;
        }
        if (positionSpread == 0) {
            return 1;
        }
        long mix = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + micro * 0x94D049BB133111EBL;
        return 1 + new java.util.SplittableRandom(mix).nextInt(positionSpread + 1);
    }

    /** The memory score bias at a step: {@link #memoryScoreBias} falling linearly to 0 at half the schedule. */
    public double memoryScoreBiasAt(int step) {
        double half = Math.max(1, schedule.totalSteps() / 2.0);
        return memoryScoreBias * Math.max(0, 1 - step / half);
    }

    /** Tokens whose loss one optimizer step sees, at most. */
    public long tokensPerStep() {
        return (long) accumulation * batchSlots * segmentLength;
    }
}
