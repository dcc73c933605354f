package dev.memlong.runtime.train;

/**
 * LoRA adapters {@code W + (alpha / rank) · B·A} on a projection; {@code A} is initialised like PEFT (Kaiming
 * uniform), {@code B} at zero, so a fresh adapter leaves the model unchanged.
 *
 * @param rank    r, the inner dimension of {@code B·A}
 * @param alpha   scaling numerator (the reference recipe: r=64, alpha=8)
 * @param dropout dropout probability on the adapter's input, during training only
 */
public record LoraSettings(int rank, float alpha, float dropout) {

    public LoraSettings {
        if (rank <= 0) {
            throw new IllegalArgumentException("LoRA rank must be positive, got " + rank);
        }
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
        }
        if (dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        }
    }

    /** The reference recipe's stage 2 values. */
    public static LoraSettings reference() {
        return new LoraSettings(64, 8, 0.05f);
    }

    public float scale() {
        return alpha / rank;
    }
}
