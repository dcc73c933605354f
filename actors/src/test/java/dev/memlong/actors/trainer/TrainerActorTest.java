package dev.memlong.actors.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.ActorSettings;
import dev.memlong.actors.ActorTestSupport;
import dev.memlong.actors.RoundReport;
import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.StorageSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's protocol with the scheduler, played by a {@link TestProbe}: a round is answered only once its
 * version is swapped in; a version a device cannot load is withdrawn (the store and the devices go back to the
 * previous version); a rollback waits for the swap too.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainerActorTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @JUnit5TestKit
    public ActorTestKit testKit = new JUnit5TestKitBuilder()
            .withCustomConfig(ConfigFactory.parseString("pekko.loglevel = WARNING")).build();

    @TempDir
    Path data;

    private ConversationStore store;
    private TextTokenizer tokenizer;
    private TestProbe<DeviceScheduler.Command> scheduler;
    private TrainerCounters counters;
    private ActorRef<TrainerActor.Command> trainer;

    @BeforeEach
    void start() {
        Config config = ConfigFactory.load(ActorTestSupport.trainerConfig(data, "memlong.actors.trainer.tolerance = 1.0"));
        store = ConversationStore.open(StorageSettings.from(config));
        tokenizer = Tokenizers.open(ActorTestSupport.model());
        scheduler = testKit.createTestProbe();
        counters = new TrainerCounters(0);
        TrainerSettings settings = ActorSettings.from(config).trainer();
        trainer = testKit.spawn(TrainerActor.create(new TrainerContext(store, "hf-tiny-llama",
                ActorTestSupport.model(), ActorTestSupport.memorySettings(), tokenizer,
                ChatTemplate.find(ActorTestSupport.model()), ActorTestSupport.RETRIEVER, settings,
                data.resolve("models"), scheduler.ref(), counters, RoundObserver.NONE)));
    }

    @AfterEach
    void stop() {
        testKit.stop(trainer);
        store.close();
        tokenizer.close();
    }

    private void seed(String suffix) {
        for (String topic : List.of("The garden is green.", "The river is cold.", "The stone is old.")) {
            ActorTestSupport.seedDialogue(store, "t", topic.split(" ")[1] + suffix, topic);
        }
    }

    /** The trainer's cursor of a seeded conversation (0: none of its dialogue consumed). */
    private long cursor(String id) {
        return store.conversation(new ConversationKey("t", id)).orElseThrow().trainedToSeq();
    }

    @Test
    void aRoundIsAnsweredOnlyOnceItsVersionIsSwappedIn() {
        seed("");
        TestProbe<RoundReport> caller = testKit.createTestProbe();
        trainer.tell(new TrainerActor.TrainNow(caller.ref()));
        DeviceScheduler.SwapWeights swap = scheduler.expectMessageClass(DeviceScheduler.SwapWeights.class, WAIT);
        assertEquals(1, swap.weights().version());
        assertEquals(data.resolve("models/v1/upper.safetensors"), swap.weights().upperLayers());
        assertEquals(1, store.servingModelVersion("hf-tiny-llama"), "stored before the swap");
        caller.expectNoMessage(Duration.ofMillis(300));
        assertTrue(counters.snapshot().roundInProgress());
        assertEquals(0, cursor("garden"), "the dialogue is consumed only once the devices serve the version");

        swap.replyTo().tell(new DeviceScheduler.SwapResult(1, List.of(0, 1), Map.of()));
        RoundReport report = caller.expectMessageClass(RoundReport.class, WAIT);
        assertEquals(RoundReport.Outcome.PUBLISHED, report.outcome());
        assertTrue(cursor("garden") > 0, "consumed once swapped in");
        assertEquals(1, counters.snapshot().servingVersion());
        assertEquals(1, counters.snapshot().roundsPublished());

        TestProbe<StatusReply<Long>> rollback = testKit.createTestProbe();
        trainer.tell(new TrainerActor.Rollback(0, rollback.ref()));
        DeviceScheduler.SwapWeights back = scheduler.expectMessageClass(DeviceScheduler.SwapWeights.class, WAIT);
        assertEquals(0, back.weights().version());
        rollback.expectNoMessage(Duration.ofMillis(200));
        back.replyTo().tell(new DeviceScheduler.SwapResult(0, List.of(0, 1), Map.of()));
        assertEquals(0L, rollback.expectMessageClass(StatusReply.class, WAIT).getValue());
        assertEquals(0, store.servingModelVersion("hf-tiny-llama"));
    }

    @Test
    void aVersionADeviceCannotLoadIsWithdrawnFromTheStoreAndTheDevices() {
        seed("");
        TestProbe<RoundReport> caller = testKit.createTestProbe();
        trainer.tell(new TrainerActor.TrainNow(caller.ref()));
        DeviceScheduler.SwapWeights swap = scheduler.expectMessageClass(DeviceScheduler.SwapWeights.class, WAIT);
        swap.replyTo().tell(new DeviceScheduler.SwapResult(1, List.of(0), Map.of(1, "out of memory")));

        DeviceScheduler.SwapWeights back = scheduler.expectMessageClass(DeviceScheduler.SwapWeights.class, WAIT);
        assertEquals(0, back.weights().version(), "every device back on the previous version");
        assertEquals(0, store.servingModelVersion("hf-tiny-llama"), "and the store");
        back.replyTo().tell(new DeviceScheduler.SwapResult(0, List.of(0, 1), Map.of()));
        RoundReport report = caller.expectMessageClass(RoundReport.class, WAIT);
        assertEquals(RoundReport.Outcome.FAILED, report.outcome());
        assertTrue(report.message().contains("out of memory"), report.message());
        assertEquals(0, counters.snapshot().servingVersion());
        assertEquals(1, counters.snapshot().roundsFailed());
        for (String id : List.of("garden", "river", "stone")) {
            assertEquals(0, cursor(id), "the failed round consumed no dialogue: " + id);
        }

        // the trainer goes on: the next round trains on the same dialogue (and the new) and publishes version 2
        seed("-2");
        trainer.tell(new TrainerActor.TrainNow(caller.ref()));
        DeviceScheduler.SwapWeights next = scheduler.expectMessageClass(DeviceScheduler.SwapWeights.class, WAIT);
        assertEquals(2, next.weights().version());
        next.replyTo().tell(new DeviceScheduler.SwapResult(2, List.of(0, 1), Map.of()));
        RoundReport second = caller.expectMessageClass(RoundReport.class, WAIT);
        assertEquals(RoundReport.Outcome.PUBLISHED, second.outcome());
        assertTrue(second.trainConversations().contains(new ConversationKey("t", "garden"))
                || second.heldoutConversations().contains(new ConversationKey("t", "garden")), second.toString());
        assertTrue(cursor("garden") > 0);
        assertEquals(2, counters.snapshot().servingVersion());
    }
}
