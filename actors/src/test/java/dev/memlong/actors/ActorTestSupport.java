package dev.memlong.actors;

import com.typesafe.config.Config;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.retriever.Retriever;
import java.nio.file.Path;

/** What the actor-level tests of the sub-packages share with {@link TestRuntimes}. */
public final class ActorTestSupport {

    /** The fast hashing retriever. */
    public static final Retriever RETRIEVER = TestRuntimes.RETRIEVER;

    private ActorTestSupport() {}

    /** The fixture model directory. */
    public static Path model() {
        return TestRuntimes.model();
    }

    /** The tests' memory settings (chunk 8, window 32) for the fixture model. */
    public static MemorySettings memorySettings() {
        return TestRuntimes.memorySettings();
    }

    /** The K/V layout of the fixture model's banks with the hashing retriever. */
    public static KvLayout layout() {
        ModelConfig c = ModelConfig.load(model());
        return memorySettings().layout(c.numKvHeads(), c.headDim(), RETRIEVER.dimension(), RETRIEVER.id());
    }

    /** The trainer tests' configuration: {@link #config} with {@link TrainerFixtures#trainer} settings. */
    public static Config trainerConfig(Path data, String extra) {
        return TestRuntimes.config(data, 1, 2, 4, TrainerFixtures.trainer(extra));
    }

    /** Writes a few exchanges into a conversation of the store (see {@link TrainerFixtures#seed}). */
    public static dev.memlong.storage.ConversationKey seedDialogue(dev.memlong.storage.ConversationStore store,
                                                                  String tenant, String id, String topic) {
        return TrainerFixtures.seed(store, tenant, id, topic, 3);
    }

    /** The tests' runtime configuration (see {@link TestRuntimes#config}). */
    public static Config config(Path data, String extra) {
        return TestRuntimes.config(data, 1, 2, 4, extra);
    }
}
