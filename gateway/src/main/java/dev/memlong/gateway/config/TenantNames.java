package dev.memlong.gateway.config;

import java.util.regex.Pattern;

/** What a tenant name and a conversation id may look like. */
public final class TenantNames {

    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** Longest conversation id, in characters. */
    public static final int MAX_CONVERSATION_ID = 128;

    private TenantNames() {
    }

    /** Whether {@code tenant} is 1-64 characters of {@code [A-Za-z0-9._-]}. */
    public static boolean valid(String tenant) {
        return tenant != null && TENANT.matcher(tenant).matches();
    }

    /** Whether {@code id} is a usable conversation id: 1-128 characters, none of them a control character. */
    public static boolean validConversationId(String id) {
        return id != null && !id.isBlank() && id.length() <= MAX_CONVERSATION_ID
                && id.chars().noneMatch(Character::isISOControl);
    }
}
