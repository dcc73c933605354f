package dev.memlong.runtime.train;

/**
 * Learning rate per optimizer step: linear warm-up from 0 to the peak over {@code warmupSteps}, then cosine or
 * linear decay to {@code minRatio · peak} at {@code totalSteps} (constant after).
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
