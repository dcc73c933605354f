package dev.memlong.storage;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Identifies a conversation on a node: its tenant and its id. Both are non-empty strings of at most
 * {@value #MAX_BYTES} UTF-8 bytes.
 *
 * @param tenant         the tenant
 * @param conversationId the conversation id, unique within the tenant
 */
public record ConversationKey(String tenant, String conversationId) {

    /** The tenant used when none is given (the same one {@code memlong chat} uses). */
    public static final String DEFAULT_TENANT = "default";

    /** Longest tenant or id, in UTF-8 bytes (the key encoding's 16-bit length prefix). */
    public static final int MAX_BYTES = 0xFFFF;

    public ConversationKey {
        check("tenant", tenant);
        check("conversationId", conversationId);
    }

    /** A conversation of the {@link #DEFAULT_TENANT}. */
    public static ConversationKey of(String conversationId) {
        return new ConversationKey(DEFAULT_TENANT, conversationId);
    }

    private static void check(String what, String value) {
        Objects.requireNonNull(value, what);
        if (value.isEmpty() || value.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
            throw new IllegalArgumentException(what + " must have 1.." + MAX_BYTES + " UTF-8 bytes");
        }
    }

    /** {@code tenant/conversationId}. */
    @Override
    public String toString() {
        return tenant + "/" + conversationId;
    }
}
