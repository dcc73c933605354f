package dev.memlong.actors.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.ActorSettings;
import dev.memlong.actors.ActorTestSupport;
import dev.memlong.runtime.train.TrainingMode;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** memlong.actors.trainer: defaults, derived values, and errors that name the key. */
class TrainerSettingsTest {

    private static TrainerSettings read(String hocon) {
        return ActorSettings.from(ConfigFactory.parseString(hocon)).trainer();
    }

    private static String error(String hocon) {
        return assertThrows(IllegalArgumentException.class, () -> read(hocon)).getMessage();
    }

    @Test
    void defaultsAreSafe() {
        TrainerSettings s = read("");
        assertEquals(false, s.automatic(), "a node trains on its users' dialogue only when told to");
        assertEquals(TrainingMode.LORA_UPPER, s.mode());
        assertEquals(20000, s.everyTokens());
        assertEquals(Duration.ofMinutes(60), s.every());
        assertEquals(0.5, s.cpuShare());
        assertEquals(Path.of("/data/models"), s.versionsDir(Path.of("/data/rocksdb")));
        assertEquals(32, s.segmentLength(ActorTestSupport.memorySettings()), "auto: the local window in chunks");
    }

    @Test
    void wrongKeysAndValuesFailNamingTheKey() {
        assertTrue(error("memlong.actors.trainer.every-token = 5").contains(
                "unknown configuration key memlong.actors.trainer.every-token"));
        assertTrue(error("memlong.actors.trainer.lora.rnak = 5").contains(
                "unknown configuration key memlong.actors.trainer.lora.rnak"));
        assertTrue(error("memlong.actors.trainer.mode = full-all").contains("memlong.actors.trainer.mode: full-all"));
        assertTrue(error("memlong.actors.trainer.mode = sideways").contains("memlong.actors.trainer.mode"));
        assertTrue(error("memlong.actors.trainer.every = soon").contains("memlong.actors.trainer.every"));
        assertTrue(error("memlong.actors.trainer.heldout-fraction = 1").contains(
                "memlong.actors.trainer.heldout-fraction"));
        assertTrue(error("memlong.actors.trainer.duty-cycle = 0").contains("memlong.actors.trainer.duty-cycle"));
        assertTrue(error("memlong.actors.trainer.threads = 0").contains("memlong.actors.trainer.threads"));
        assertTrue(error("memlong.actors.trainer.lora.rank = 0").contains("memlong.actors.trainer.lora"));
        TrainerSettings s = read("memlong.actors.trainer.segment-length = 12");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> s.segmentLength(ActorTestSupport.memorySettings())).getMessage()
                .contains("memlong.actors.trainer.segment-length: 12 is not a multiple of memlong.memory.chunk-size"));
    }
}
