package dev.memlong.runtime.generate;

/**
 * What generation drives: a sequence that takes a prompt and then one token at a time, returning the logits
 * for the next token each time. A plain KV cache and a MemLong sequence (window, memory, retrieval) both are.
 */
public interface TokenStepper extends AutoCloseable {

    /** Processes the prompt (a new input) and returns the logits after its last token. */
    float[] prefill(int[] prompt);

    /** Appends one generated token and returns the logits after it. */
    float[] step(int token);

    @Override
    void close();
}
