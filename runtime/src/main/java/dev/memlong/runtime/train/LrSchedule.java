package dev.memlong.runtime.train;

/**
 * Learning rate per 0-based optimizer step {@code s}, with {@code w = warmupSteps}, {@code N = totalSteps}:
 * <ul>
 *   <li>warm-up, {@code s < w}: {@code peak · (s + 1) / w}, a linear rise whose first step already gets
 *       {@code peak / w} and whose step {@code w - 1} reaches the peak;</li>
 *   <li>after, {@code s >= w}: {@code peak · (minRatio + (1 - minRatio) · f(p))} with
 *       {@code p = min(1, (s - w) / (N - w))} and {@code f(p) = (1 + cos(π·p)) / 2} (cosine), {@code 1 - p}
 *       (linear) or {@code 1} (constant); so {@code peak} at step {@code w}, {@code minRatio · peak} from step
 *       {@code N} on. With {@code N <= w} it stays at the peak.</li>
 * </ul>
 *
 * <p>Difference from Hugging Face's {@code get_cosine_schedule_with_warmup} (and its linear, constant and
 * {@code min_lr_rate} variants), whose multiplier at step {@code s} is {@code s / w} during warm-up: HF's first
 * optimizer step runs at learning rate 0 and its warm-up reaches the peak one step later; here each warm-up step
 * gets HF's value of the step after it. From step {@code w} on the two agree (HF's plain cosine is
 * {@code minRatio = 0}; its {@code get_cosine_with_min_lr_schedule_with_warmup} takes {@code min_lr_rate =
 * minRatio}). Kept as it is: the shipped demo model was trained with this schedule and must stay reproducible.
 */
public record LrSchedule(double peak, int warmupSteps, int totalSteps, Decay decay, double minRatio) {

    /** Shape of the decay after warm-up. */
    public enum Decay {
        COSINE, LINEAR, CONSTANT;

        public static Decay parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "cosine" -> COSINE;
                case "linear" -> LINEAR;
                case "constant", "none" -> CONSTANT;
                default -> throw new IllegalArgumentException("unknown decay \"" + s + "\"; use cosine, linear or constant");
            };
        }
    }

    public LrSchedule {
        if (!(peak > 0) || warmupSteps < 0 || totalSteps <= 0 || minRatio < 0 || minRatio > 1) {
            throw new IllegalArgumentException("invalid schedule: peak " + peak + ", warm-up " + warmupSteps
                    + ", total " + totalSteps + ", min ratio " + minRatio);
        }
    }

    /** Learning rate of 0-based optimizer step {@code step}. */
    public double at(int step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        if (decay == Decay.CONSTANT || totalSteps <= warmupSteps) {
            return peak;
        }
        double progress = Math.min(1.0, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
        double shape = decay == Decay.COSINE ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
        return peak * (minRatio + (1 - minRatio) * shape);
    }
}
