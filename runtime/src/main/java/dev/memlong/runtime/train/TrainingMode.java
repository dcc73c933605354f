package dev.memlong.runtime.train;

/** Which parameters a training run changes. Embeddings and {@code lm_head} are frozen in every mode but {@link #FULL_ALL}. */
public enum TrainingMode {
    /**
     * MemLong's stage 2: LoRA on q/k/v/o of the layers above the memory layer, plus those layers' RMSNorm weights
     * and the final norm. Layers {@code 0..m} stay bit-identical, so stored memory stays valid.
     */
    LORA_UPPER,
    /** Every weight of the layers above the memory layer, plus the final norm. Memory stays valid too. */
    FULL_UPPER,
    /** Every weight of the model, embeddings and {@code lm_head} included (pretraining small models from scratch). */
    FULL_ALL;

    /** Parses {@code lora}, {@code full-upper} or {@code full-all}. */
    public static TrainingMode parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "lora", "lora-upper" -> LORA_UPPER;
            case "full-upper", "upper" -> FULL_UPPER;
            case "full-all", "all", "full" -> FULL_ALL;
            default -> throw new IllegalArgumentException("unknown training mode \"" + s + "\"; use lora, full-upper or full-all");
        };
    }

    /** Whether layers {@code 0..memoryLayer}, the embeddings and {@code lm_head} stay frozen. */
    public boolean keepsMemoryValid() {
        return this != FULL_ALL;
    }
}
