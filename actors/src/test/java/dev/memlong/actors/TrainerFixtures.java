package dev.memlong.actors;

import dev.memlong.actors.conversation.FaultInjector;
import dev.memlong.actors.trainer.RoundObserver;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationSpec;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.TurnCommit;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import dev.memlong.actors.scheduler.DeviceReplica;

/**
 * Trainer tests' runtimes: {@link TestRuntimes} with a trainer sized to run a round in about a second on the fixture
 * model (LoRA rank 4, up to 4 steps of 2 slots x 32 tokens), and dialogue written straight into the store (fast and
 * the same every time).
 */
final class TrainerFixtures {

    /** Model id of the fixture model's conversations (the directory's name). */
    static final String MODEL_ID = "hf-tiny-llama";

    private TrainerFixtures() {}

    /** The trainer settings of these tests, then {@code extra} (HOCON, e.g. a learning rate). */
    static String trainer(String extra) {
        return """
                memlong.actors.trainer {
                  automatic = off
                  every-tokens = 0
                  every = 0
                  min-tokens = 16
                  heldout-fraction = 0.3
                  tolerance = 0.05
                  lora { rank = 4, alpha = 8, dropout = 0 }
                  learning-rate = 1e-2
                  warmup-steps = 1
                  max-steps = 4
                  batch-slots = 2
                  segment-length = 32
                  threads = 1
                  duty-cycle = 1.0
                }
                """ + extra;
    }

    static MemLongRuntime start(Path data, int devices, String trainerExtra) {
        return start(data, devices, trainerExtra, RoundObserver.NONE, r -> { });
    }

    static MemLongRuntime start(Path data, int devices, String trainerExtra, RoundObserver observer,
                                Consumer<DeviceReplica> replicas) {
        return MemLongRuntime.builder(TestRuntimes.config(data, devices, 8, 16, trainer(trainerExtra)))
                .retriever(TestRuntimes.RETRIEVER).faultInjector(FaultInjector.NONE).roundObserver(observer)
                .replicaObserver(replicas).start();
    }

    /** Writes {@code turns} user/assistant exchanges about {@code topic} into a conversation of the store. */
    static ConversationKey seed(ConversationStore store, String tenant, String id, String topic, int turns) {
        ConversationKey key = new ConversationKey(tenant, id);
        store.openConversation(key, ConversationSpec.of(MODEL_ID, ActorTestSupport.layout()));
        for (int i = 0; i < turns; i++) {
            store.commitTurn(key, TurnCommit.of(TestRuntimes.message(topic + " question " + i + ":", 12, i), 20,
                    TestRuntimes.message(topic + " answer " + i + ":", 12, i + 100), 20, List.of()));
        }
        return key;
    }

    /** Four conversations of a few turns each: enough for a round with a held-out part. */
    static List<ConversationKey> seedFour(ConversationStore store) {
        return List.of(seed(store, "t", "garden", "The garden is green.", 3),
                seed(store, "t", "river", "The river is cold.", 3),
                seed(store, "u", "stone", "The stone is old.", 3),
                seed(store, "u", "market", "The market is busy.", 3));
    }
}
