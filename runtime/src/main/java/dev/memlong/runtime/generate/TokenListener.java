package dev.memlong.runtime.generate;

/** Receives generated tokens as they are produced (streaming). */
@FunctionalInterface
public interface TokenListener {

    /**
     * @param tokenId   the new token
     * @param textDelta the text it completes; empty while a multi-byte character is still incomplete
     */
    void onToken(int tokenId, String textDelta);

    TokenListener NONE = (id, delta) -> { };
}
