package dev.memlong.runtime.generate;

/**
 * Logits from which no next token can be chosen: a NaN (a numerically broken forward pass) or every token masked
 * to {@code -Infinity}. Thrown by {@link Sampler#next}; the message names the offending token where there is one.
 */
public class InvalidLogitsException extends IllegalArgumentException {

    public InvalidLogitsException(String message) {
        super(message);
    }
}
