package dev.memlong.actors.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.MemoryBank;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.retriever.HashingRetriever;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.SavedWindow;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

/**
 * Passivation saves a window only when one model version computed all of it: a window a swap interrupted (steps of
 * two versions wrote it) is not saved, and a saved window is put back only into a window the same version builds.
 * Otherwise a restored conversation would attend to K/V of a version the device no longer serves.
 */
class SlotTableTest {

    private static final ConversationKey KEY = new ConversationKey("t", "c");

    private static Path model() {
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("fixtures/hf-tiny-llama"))) {
                return p.resolve("fixtures/hf-tiny-llama");
            }
        }
        throw new IllegalStateException("fixtures not found");
    }

    @Test
    void aWindowTwoVersionsWroteIsNotSavedAndAnotherVersionsWindowIsNotRestored() {
        try (ModelBundle bundle = ModelBundle.open(model())) {
            MemLongEngine engine = new MemLongEngine(bundle, new HashingRetriever(),
                    MemLongEngine.defaultSettings(bundle));
            try (KvCachePool cache = engine.newCache(2);
                 MemoryBank bank = new InMemoryMemoryBank(engine.bankLayout(), 4096, EvictionPolicy.FIFO)) {
                SlotTable slots = new SlotTable(engine, cache, new SchedulerGauges(1));
                SlotTable.Resident window = slots.claim(KEY, bank, 1);
                window.wroteWith(1);
                SavedWindow saved = slots.save(KEY, "tag", 1);
                assertNotNull(saved, "version 1 alone wrote it: saved");
                assertEquals(1, saved.modelVersion());
                assertNull(slots.save(KEY, "tag", 2), "the device now serves version 2: not saved");

                window.wroteWith(2); // a swap happened mid-turn
                assertNull(slots.save(KEY, "tag", 1), "mixed window: not saved");
                assertNull(slots.save(KEY, "tag", 2), "mixed window: not saved");

                assertFalse(slots.restore(slots.claim(KEY, bank, 2), saved), "version 2 does not take version 1's");
                assertTrue(slots.restore(slots.claim(KEY, bank, 1), saved), "version 1 takes its own");
                slots.release(KEY);
                assertEquals(0, slots.residents());
            }
        }
    }
}
