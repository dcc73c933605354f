package dev.memlong.gateway.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Settings of the gateway, read once from {@code memlong.gateway} (see {@code reference.conf} for every key).
 *
 * @param host                      address to listen on (loopback is forced when {@code apiKeys} is empty)
 * @param port                      TCP port, 0 for any free one
 * @param apiKeys                   API key to tenant
 * @param anonymousTenant           the tenant of every request when no key is configured
 * @param ioThreads                 event-loop threads, 0 for Netty's default
 * @param maxFrameBytes             largest WebSocket frame payload (and message, after aggregation and inflation);
 *                                  at least {@link #messageFrameBytes messageFrameBytes(maxMessageChars)}
 * @param maxBodyBytes              largest HTTP body
 * @param maxMessageChars           longest user message
 * @param maxRequestsPerConnection  requests in flight per WebSocket connection
 * @param requestsPerSecond         sustained requests per second per tenant
 * @param burst                     token-bucket size per tenant
 * @param handshakeTimeout          WebSocket handshake timeout
 * @param idleTimeout               idle connection timeout, {@link Duration#ZERO} for none
 * @param shutdownTimeout           how long shutdown waits for requests in flight
 * @param defaultMaxNewTokens       reply length when a request does not say
 * @param maxNewTokensLimit         largest reply length a request may ask for
 * @param websocketCompression      permessage-deflate when offered
 * @param allowedOrigins            browser origins (besides the gateway's own) allowed to open a WebSocket
 */
public record GatewaySettings(String host, int port, Map<String, String> apiKeys, String anonymousTenant,
                              int ioThreads, int maxFrameBytes, int maxBodyBytes, int maxMessageChars,
                              int maxRequestsPerConnection, double requestsPerSecond, int burst,
                              Duration handshakeTimeout, Duration idleTimeout, Duration shutdownTimeout,
                              int defaultMaxNewTokens, int maxNewTokensLimit, boolean websocketCompression,
                              List<String> allowedOrigins) {

    /** The config path this record is read from. */
    public static final String ROOT = "memlong.gateway";

    private static final Set<String> KEYS = Set.of("host", "port", "api-keys", "api-keys-env", "anonymous-tenant",
            "io-threads", "max-frame-bytes", "max-body-bytes", "max-message-chars",
            "max-concurrent-requests-per-connection", "rate-limit", "handshake-timeout", "idle-timeout",
            "shutdown-timeout", "default-max-new-tokens", "max-new-tokens-limit", "websocket-compression",
            "allowed-origins");
    private static final Pattern ORIGIN = Pattern.compile("https?://[^/\\s?#*]+");
    private static final Set<String> RATE_KEYS = Set.of("requests-per-second", "burst");
    private static final Set<String> KEY_ENTRY_KEYS = Set.of("key", "tenant");

    public GatewaySettings {
        Objects.requireNonNull(host, "host");
        apiKeys = Map.copyOf(apiKeys);
        allowedOrigins = List.copyOf(allowedOrigins);
        require(!host.isBlank(), "host", "must not be empty");
        require(port >= 0 && port <= 65535, "port", "must be in [0, 65535], got " + port);
        require(TenantNames.valid(anonymousTenant), "anonymous-tenant", "must be 1-64 of [A-Za-z0-9._-]");
        require(ioThreads >= 0, "io-threads", "must be >= 0");
        require(maxFrameBytes >= 1024, "max-frame-bytes", "must be at least 1k");
        require(maxBodyBytes >= 1024, "max-body-bytes", "must be at least 1k");
        require(maxMessageChars >= 1, "max-message-chars", "must be positive");
        // A message over max-message-chars must reach the session to be refused with a typed TOO_LARGE error on a
        // live connection; a frame over max-frame-bytes is cut off by the frame decoder with close status 1009.
        // So the frame limit must carry a message of the longest allowed text in any script.
        long needed = messageFrameBytes(maxMessageChars);
        if (maxFrameBytes < needed) {
            throw new IllegalArgumentException(ROOT + ".max-frame-bytes (" + maxFrameBytes + ") cannot carry a message "
                    + "of " + ROOT + ".max-message-chars (" + maxMessageChars + ") characters: that takes up to "
                    + needed + " bytes (" + UTF8_BYTES_PER_CHAR + " bytes a character plus " + FRAME_OVERHEAD_BYTES
                    + " for the rest of the frame); raise max-frame-bytes to at least " + needed
                    + " or lower max-message-chars to at most " + maxMessageChars(maxFrameBytes));
        }
        require(maxRequestsPerConnection >= 1, "max-concurrent-requests-per-connection", "must be positive");
        require(requestsPerSecond > 0, "rate-limit.requests-per-second", "must be positive");
        require(burst >= 1, "rate-limit.burst", "must be positive");
        require(!handshakeTimeout.isNegative() && !handshakeTimeout.isZero(), "handshake-timeout", "must be positive");
        require(!idleTimeout.isNegative(), "idle-timeout", "must be >= 0");
        require(!shutdownTimeout.isNegative(), "shutdown-timeout", "must be >= 0");
        require(defaultMaxNewTokens >= 1, "default-max-new-tokens", "must be positive");
        require(maxNewTokensLimit >= defaultMaxNewTokens, "max-new-tokens-limit",
                "must be >= default-max-new-tokens");
        apiKeys.forEach((k, t) -> {
            require(k.length() >= 8 && k.chars().noneMatch(Character::isWhitespace), "api-keys",
                    "a key must be at least 8 characters without spaces");
            require(TenantNames.valid(t), "api-keys", "tenant \"" + t + "\" must be 1-64 of [A-Za-z0-9._-]");
        });
        // an origin is what a browser sends in the Origin header: scheme://host[:port], no path, no wildcard
        allowedOrigins.forEach(o -> require(ORIGIN.matcher(o).matches(), "allowed-origins",
                "\"" + o + "\" must be an origin like https://chat.example.com or http://localhost:3000"));
    }

    /**
     * The most UTF-8 bytes a Java char takes: 3 for one in the Basic Multilingual Plane (CJK, say), and a pair of
     * surrogates takes 4 for the two. JSON escapes of quotes and backslashes take 2. Not covered: JSON text whose
     * characters are written as escapes of a backslash, u and four hex digits (Python's {@code json.dumps} default
     * for non-ASCII), 6 bytes a char; the start-up check does not guarantee that such a message fits (see
     * max-frame-bytes in reference.conf).
     */
    public static final int UTF8_BYTES_PER_CHAR = 3;

    /**
     * What a user-message frame holds besides its text: the request id (at most 128 characters), field tags or
     * names, generation parameters and a few stop strings. (A system prompt sent in the same frame is not
     * counted: one near the limit together with a text near the limit may still exceed the frame limit.)
     */
    public static final int FRAME_OVERHEAD_BYTES = 1024;

    /** The largest frame a user message of {@code chars} characters takes. */
    public static long messageFrameBytes(int chars) {
        return (long) chars * UTF8_BYTES_PER_CHAR + FRAME_OVERHEAD_BYTES;
    }

    /** The longest message text a frame of {@code frameBytes} always carries. */
    private static long maxMessageChars(int frameBytes) {
        return Math.max(0, (frameBytes - FRAME_OVERHEAD_BYTES) / UTF8_BYTES_PER_CHAR);
    }

    private static void require(boolean ok, String key, String message) {
        if (!ok) {
            throw new IllegalArgumentException(ROOT + "." + key + " " + message);
        }
    }

    /** The defaults of {@code reference.conf}, with no environment. */
    public static GatewaySettings defaults() {
        return from(ConfigFactory.empty(), Map.of());
    }

    /** Reads {@code memlong.gateway} of {@code config} and the API keys of the process environment. */
    public static GatewaySettings from(Config config) {
        return from(config, System.getenv());
    }

    /**
     * Reads {@code memlong.gateway} of {@code config} (falling back to {@code reference.conf}) and the keys in the
     * environment variable named by {@code api-keys-env} of {@code env}.
     */
    public static GatewaySettings from(Config config, Map<String, String> env) {
        Config c = config.withFallback(ConfigFactory.defaultReference()).getConfig(ROOT);
        checkKeys(c, KEYS, ROOT);
        checkKeys(c.getConfig("rate-limit"), RATE_KEYS, ROOT + ".rate-limit");
        try {
            return new GatewaySettings(c.getString("host"), c.getInt("port"), apiKeys(c, env),
                    c.getString("anonymous-tenant"), c.getInt("io-threads"), bytes(c, "max-frame-bytes"),
                    bytes(c, "max-body-bytes"), c.getInt("max-message-chars"),
                    c.getInt("max-concurrent-requests-per-connection"), c.getDouble("rate-limit.requests-per-second"),
                    c.getInt("rate-limit.burst"), c.getDuration("handshake-timeout"), c.getDuration("idle-timeout"),
                    c.getDuration("shutdown-timeout"), c.getInt("default-max-new-tokens"),
                    c.getInt("max-new-tokens-limit"), c.getBoolean("websocket-compression"),
                    c.getStringList("allowed-origins"));
        } catch (ConfigException e) {
            throw new IllegalArgumentException("invalid gateway configuration: " + e.getMessage(), e);
        }
    }

    private static void checkKeys(Config c, Set<String> known, String path) {
        for (String key : c.root().keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown configuration key " + path + "." + key
                        + " (known: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }

    private static int bytes(Config c, String key) {
        long v = c.getBytes(key);
        require(v <= Integer.MAX_VALUE, key, "must be below 2G");
        return (int) v;
    }

    private static Map<String, String> apiKeys(Config c, Map<String, String> env) {
        Map<String, String> keys = new LinkedHashMap<>();
        for (Config entry : c.getConfigList("api-keys")) {
            checkKeys(entry, KEY_ENTRY_KEYS, ROOT + ".api-keys[]");
            put(keys, entry.getString("key"), entry.getString("tenant"));
        }
        String var = c.getString("api-keys-env");
        String value = var.isEmpty() ? null : env.get(var);
        if (value != null && !value.isBlank()) {
            for (String pair : value.split(",")) {
                int eq = pair.lastIndexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("environment variable " + var
                            + " must be KEY=TENANT,KEY=TENANT,...; an entry has no '='");
                }
                put(keys, pair.substring(0, eq).strip(), pair.substring(eq + 1).strip());
            }
        }
        return keys;
    }

    private static void put(Map<String, String> keys, String key, String tenant) {
        String old = keys.put(key, tenant);
        if (old != null && !old.equals(tenant)) {
            throw new IllegalArgumentException(ROOT + ".api-keys binds one key to two tenants (" + old + ", "
                    + tenant + ")");
        }
    }

    /** Whether API keys are required (any configured). */
    public boolean authRequired() {
        return !apiKeys.isEmpty();
    }

    /** A copy listening on another port. */
    public GatewaySettings withPort(int newPort) {
        return new GatewaySettings(host, newPort, apiKeys, anonymousTenant, ioThreads, maxFrameBytes, maxBodyBytes,
                maxMessageChars, maxRequestsPerConnection, requestsPerSecond, burst, handshakeTimeout, idleTimeout,
                shutdownTimeout, defaultMaxNewTokens, maxNewTokensLimit, websocketCompression, allowedOrigins);
    }

    /** A copy with other API keys. */
    public GatewaySettings withApiKeys(Map<String, String> keys) {
        return new GatewaySettings(host, port, keys, anonymousTenant, ioThreads, maxFrameBytes, maxBodyBytes,
                maxMessageChars, maxRequestsPerConnection, requestsPerSecond, burst, handshakeTimeout, idleTimeout,
                shutdownTimeout, defaultMaxNewTokens, maxNewTokensLimit, websocketCompression, allowedOrigins);
    }

    @Override
    public String toString() { // never print the keys themselves
        return "GatewaySettings[" + host + ":" + port + ", " + apiKeys.size() + " API keys, tenants "
                + new TreeSet<>(apiKeys.values()) + ", maxFrameBytes=" + maxFrameBytes + ", maxBodyBytes="
                + maxBodyBytes + ", maxMessageChars=" + maxMessageChars + ", maxRequestsPerConnection="
                + maxRequestsPerConnection + ", rate=" + requestsPerSecond + "/s burst " + burst + "]";
    }
}
