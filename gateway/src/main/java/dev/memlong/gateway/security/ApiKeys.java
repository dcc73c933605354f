package dev.memlong.gateway.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * API keys and the tenant each is bound to. Keys are held as SHA-256 digests, so a lookup compares digests
 * (no early exit on the secret's characters) and the secrets do not sit in the heap as strings longer than
 * configuration does. With no keys every caller is the anonymous tenant.
 */
public final class ApiKeys {

    private final Map<String, String> tenantByDigest = new HashMap<>();
    private final String anonymousTenant;

    /**
     * @param keys            API key to tenant; empty for the loopback-only anonymous mode
     * @param anonymousTenant the tenant of every caller when {@code keys} is empty
     */
    public ApiKeys(Map<String, String> keys, String anonymousTenant) {
        keys.forEach((k, t) -> tenantByDigest.put(digest(k), t));
        this.anonymousTenant = anonymousTenant;
    }

    /** Whether callers must present a key. */
    public boolean required() {
        return !tenantByDigest.isEmpty();
    }

    /**
     * The tenant of a caller presenting {@code key} (null when none was presented): the anonymous tenant when no
     * keys are configured, the key's tenant when it is known, empty otherwise.
     */
    public Optional<String> tenantOf(String key) {
        if (!required()) {
            return Optional.of(anonymousTenant);
        }
        if (key == null || key.isEmpty() || key.length() > 512) {
            return Optional.empty();
        }
        return Optional.ofNullable(tenantByDigest.get(digest(key)));
    }

    private static String digest(String key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
