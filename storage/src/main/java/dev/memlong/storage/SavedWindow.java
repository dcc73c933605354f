package dev.memlong.storage;

import java.util.Objects;

/**
 * A conversation's local window as it was when the conversation passivated: enough for the runtime to put it back
 * in a cache slot exactly as it was, instead of rebuilding it from recent messages.
 *
 * @param modelTag     which model computed the cache rows (its id)
 * @param modelVersion the model version (0: the base model) that computed every cache row; the rows are only valid
 *                     for that version, since the trainer's versions differ in the layers above the memory layer
 * @param tokenIds     the window's token ids, oldest first
 * @param unfedToken   the last sampled token that was never fed to the model, or -1
 * @param cacheRows    the window's cache rows in the runtime's own layout (storage does not read them)
 */
public record SavedWindow(String modelTag, long modelVersion, int[] tokenIds, int unfedToken, byte[] cacheRows) {

    public SavedWindow {
        Objects.requireNonNull(modelTag, "modelTag");
        Objects.requireNonNull(tokenIds, "tokenIds");
        Objects.requireNonNull(cacheRows, "cacheRows");
        if (modelVersion < 0) {
            throw new IllegalArgumentException("negative model version " + modelVersion);
        }
        if (unfedToken < -1) {
            throw new IllegalArgumentException("unfedToken must be a token id or -1, got " + unfedToken);
        }
    }
}
