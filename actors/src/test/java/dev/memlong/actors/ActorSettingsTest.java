package dev.memlong.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** memlong.actors: timeouts are checked at start-up, naming the key. */
class ActorSettingsTest {

    private static ActorSettings read(String hocon) {
        return ActorSettings.from(ConfigFactory.parseString(hocon));
    }

    @Test
    void timeoutsMustBePositive() {
        ActorSettings defaults = read("");
        assertEquals(Duration.ofSeconds(30), defaults.askTimeout());
        assertEquals(Duration.ofSeconds(30), defaults.shutdownTimeout());
        for (String key : new String[] {"ask-timeout", "shutdown-timeout"}) {
            for (String value : new String[] {"0s", "-5s"}) {
                String hocon = "memlong.actors." + key + " = " + value;
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> read(hocon), hocon);
                assertTrue(e.getMessage().contains("memlong.actors." + key), hocon + " -> " + e.getMessage());
            }
        }
    }
}
