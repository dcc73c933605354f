package dev.memlong.gateway.config;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GatewaySettingsTest {

    private static GatewaySettings parse(String hocon, Map<String, String> env) {
        return GatewaySettings.from(ConfigFactory.parseString("memlong.gateway {" + hocon + "}"), env);
    }

    private static String failure(String hocon) {
        return assertThrows(IllegalArgumentException.class, () -> parse(hocon, Map.of())).getMessage();
    }

    @Test
    void defaultsComeFromReferenceConf() {
        GatewaySettings s = GatewaySettings.defaults();
        assertEquals("127.0.0.1", s.host());
        assertEquals(8080, s.port());
        assertFalse(s.authRequired());
        assertEquals(128 * 1024, s.maxFrameBytes());
        assertEquals(32_000, s.maxMessageChars());
        assertEquals(1024 * 1024, s.maxBodyBytes());
        assertEquals(Duration.ofMinutes(5), s.idleTimeout());
        assertEquals(50, s.requestsPerSecond());
    }

    @Test
    void unknownKeysFailNamingTheKey() {
        assertTrue(failure("prot = 1").contains("memlong.gateway.prot"));
        assertTrue(failure("rate-limit { brust = 3 }").contains("memlong.gateway.rate-limit.brust"));
        assertTrue(failure("api-keys = [ { key = \"12345678\", tenant = a, role = admin } ]")
                .contains("memlong.gateway.api-keys[].role"));
    }

    @Test
    void invalidValuesFailNamingTheKey() {
        assertTrue(failure("port = 70000").contains("memlong.gateway.port"));
        assertTrue(failure("max-frame-bytes = 10").contains("max-frame-bytes"));
        assertTrue(failure("rate-limit.requests-per-second = 0").contains("rate-limit.requests-per-second"));
        assertTrue(failure("max-message-chars = lots").contains("max-message-chars"));
        assertTrue(failure("api-keys = [ { key = short, tenant = a } ]").contains("api-keys"));
        assertTrue(failure("api-keys = [ { key = \"12345678\", tenant = \"a b\" } ]").contains("tenant"));
        for (String origin : new String[] {"*", "chat.example.com", "https://chat.example.com/", "https://*.example.com"}) {
            assertTrue(failure("allowed-origins = [ \"" + origin + "\" ]").contains("allowed-origins"), origin);
        }
    }

    @Test
    void theFrameLimitMustCarryTheLongestMessage() {
        // 32000 CJK characters are 96000 bytes of UTF-8: they never fitted the former 64k frames
        String message = failure("max-frame-bytes = 64k, max-message-chars = 32000");
        assertTrue(message.contains("memlong.gateway.max-frame-bytes"), message);
        assertTrue(message.contains("memlong.gateway.max-message-chars"), message);
        assertTrue(message.contains("97024"), "says what would fit: " + message);
        assertTrue(failure("max-frame-bytes = 2k, max-message-chars = 342").contains("max-message-chars"));
        assertEquals(341, parse("max-frame-bytes = 2k, max-message-chars = 341", Map.of()).maxMessageChars());
        GatewaySettings d = GatewaySettings.defaults();
        assertTrue(d.maxFrameBytes() >= GatewaySettings.messageFrameBytes(d.maxMessageChars()),
                "the shipped limits agree");
    }

    @Test
    void allowedOriginsAreOrigins() {
        assertEquals(java.util.List.of(), GatewaySettings.defaults().allowedOrigins());
        assertEquals(java.util.List.of("https://chat.example.com", "http://localhost:3000"),
                parse("allowed-origins = [ \"https://chat.example.com\", \"http://localhost:3000\" ]", Map.of())
                        .allowedOrigins());
    }

    @Test
    void keysFromConfigurationAndEnvironment() {
        GatewaySettings s = parse("api-keys = [ { key = \"config-key-1\", tenant = a } ]",
                Map.of("MEMLONG_API_KEYS", "env-key-0001=b, env-key-0002=c"));
        assertEquals(Map.of("config-key-1", "a", "env-key-0001", "b", "env-key-0002", "c"), s.apiKeys());
        assertTrue(s.authRequired());
        assertFalse(s.toString().contains("config-key-1"), "settings never print the keys");
        assertThrows(IllegalArgumentException.class, () -> parse("", Map.of("MEMLONG_API_KEYS", "no-tenant-here")));
        assertEquals(Map.of(), parse("api-keys-env = \"\"", Map.of("MEMLONG_API_KEYS", "env-key-0001=b")).apiKeys());
    }
}
