package dev.memlong.actors.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.ActorTestSupport;
import dev.memlong.actors.MemLongException;
import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.generate.SamplingParams;
import dev.memlong.runtime.model.ModelOptions;
import dev.memlong.storage.ConversationKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler watches its device workers: a device whose model fails to load, or whose forward keeps throwing,
 * never leaves a caller waiting; its turns fail with {@code DEVICE_FAILED} and later ones go elsewhere or are
 * refused at once, naming the cause.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeviceSchedulerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @JUnit5TestKit
    public ActorTestKit testKit = new JUnit5TestKitBuilder()
            .withCustomConfig(ConfigFactory.parseString("pekko.loglevel = WARNING")).build();

    private final MemorySettings memory = ActorTestSupport.memorySettings();

    @Test
    void aDeviceWhoseModelDoesNotLoadIsLeftOutAndTurnsGoToTheOther(@TempDir Path notAModel) throws Exception {
        CompletableFuture<List<DeviceScheduler.DeviceStatus>> loaded = new CompletableFuture<>();
        ActorRef<DeviceScheduler.Command> scheduler = testKit.spawn(DeviceScheduler.create(List.of("cpu:0", "cpu:1"),
                List.of(replica(notAModel), replica(ActorTestSupport.model())), 2, 4, 64, loaded, new SchedulerGauges(2), null));
        List<DeviceScheduler.DeviceStatus> statuses = loaded.get(60, TimeUnit.SECONDS);
        assertNotNull(statuses.get(0).failure(), "device 0 has no model");
        assertNull(statuses.get(1).failure());

        TestProbe<GenerationEvent> caller = testKit.createTestProbe();
        scheduler.tell(new DeviceScheduler.Submit(request(1, "a", caller.ref()), 0)); // sticky to the dead device
        assertEquals(1, caller.expectMessageClass(GenerationEvent.Admitted.class, WAIT).device());
        GenerationEvent.Finished done = finished(caller);
        assertEquals(4, done.ids().length);
        assertEquals(1, done.device());
    }

    @Test
    void turnsRoutedToADeviceThatFailsToLoadGetATypedErrorAndLaterOnesAreRefusedAtOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Supplier<DeviceReplica> slowFailure = () -> {
            await(release);
            throw new IllegalStateException("no weights in /models/broken");
        };
        CompletableFuture<List<DeviceScheduler.DeviceStatus>> loaded = new CompletableFuture<>();
        ActorRef<DeviceScheduler.Command> scheduler = testKit.spawn(DeviceScheduler.create(List.of("cpu"),
                List.of(slowFailure), 2, 4, 64, loaded, new SchedulerGauges(1), null));
        TestProbe<GenerationEvent> first = testKit.createTestProbe();
        TestProbe<GenerationEvent> second = testKit.createTestProbe();
        scheduler.tell(new DeviceScheduler.Submit(request(1, "a", first.ref()), -1));
        scheduler.tell(new DeviceScheduler.Submit(request(2, "b", second.ref()), -1));
        release.countDown();
        for (TestProbe<GenerationEvent> probe : List.of(first, second)) {
            MemLongException error = probe.expectMessageClass(GenerationEvent.Failed.class, WAIT).error();
            assertEquals(MemLongException.Kind.DEVICE_FAILED, error.kind());
            assertTrue(error.getMessage().contains("no weights in /models/broken"), error.getMessage());
        }
        assertNotNull(loaded.get(10, TimeUnit.SECONDS).get(0).failure());

        TestProbe<GenerationEvent> later = testKit.createTestProbe();
        scheduler.tell(new DeviceScheduler.Submit(request(3, "c", later.ref()), 0));
        MemLongException refused = later.expectMessageClass(GenerationEvent.Failed.class, Duration.ofSeconds(5))
                .error();
        assertEquals(MemLongException.Kind.DEVICE_FAILED, refused.kind());
        assertTrue(refused.getMessage().contains("no device can run turns")
                && refused.getMessage().contains("no weights in /models/broken"), refused.getMessage());
    }

    @Test
    void aForwardThatThrowsFailsItsTurnsAndADeviceThatKeepsFailingIsTakenOutOfService() {
        Supplier<DeviceReplica> broken = () -> {
            DeviceReplica r = replica(ActorTestSupport.model()).get();
            r.cache().close(); // every forward now throws
            return r;
        };
        ActorRef<DeviceScheduler.Command> scheduler = testKit.spawn(DeviceScheduler.create(List.of("cpu"),
                List.of(broken), 1, 8, 64, new CompletableFuture<>(), new SchedulerGauges(1), null));
        for (int i = 1; i <= DeviceWorker.MAX_FAILED_STEPS; i++) {
            TestProbe<GenerationEvent> caller = testKit.createTestProbe();
            scheduler.tell(new DeviceScheduler.Submit(request(i, "c" + i, caller.ref()), -1));
            GenerationEvent.Failed failed = failed(caller);
            assertEquals(MemLongException.Kind.DEVICE_FAILED, failed.error().kind(), failed.error().getMessage());
            assertEquals(i, failed.requestId());
        }
        TestProbe<GenerationEvent> after = testKit.createTestProbe();
        after.awaitAssert(Duration.ofSeconds(10), () -> {
            scheduler.tell(new DeviceScheduler.Submit(request(100, "after", after.ref()), -1));
            MemLongException e = failed(after).error();
            assertEquals(MemLongException.Kind.DEVICE_FAILED, e.kind());
            assertTrue(e.getMessage().contains("no device can run turns"), e.getMessage());
            return null;
        });
    }

    @Test
    void aTurnWhoseSamplingFailsFailsAloneAndTheDeviceGoesOn() {
        ActorRef<DeviceScheduler.Command> scheduler = testKit.spawn(DeviceScheduler.create(List.of("cpu"),
                List.of(replica(ActorTestSupport.model(), 4)), 4, 8, 64, new CompletableFuture<>(),
                new SchedulerGauges(1), null));
        DeviceWorker.poisonLogits = r -> r.key().conversationId().startsWith("poisoned");
        try {
            // one poisoned turn between two healthy ones, submitted together so they share steps
            TestProbe<GenerationEvent> first = testKit.createTestProbe();
            TestProbe<GenerationEvent> poisoned = testKit.createTestProbe();
            TestProbe<GenerationEvent> third = testKit.createTestProbe();
            scheduler.tell(new DeviceScheduler.Submit(request(1, "a", first.ref()), -1));
            scheduler.tell(new DeviceScheduler.Submit(request(2, "poisoned", poisoned.ref()), -1));
            scheduler.tell(new DeviceScheduler.Submit(request(3, "b", third.ref()), -1));
            MemLongException error = failed(poisoned).error();
            assertEquals(MemLongException.Kind.DEVICE_FAILED, error.kind());
            assertTrue(error.getMessage().contains("turn 2") && error.getMessage().contains("NaN"), error.getMessage());
            for (TestProbe<GenerationEvent> healthy : List.of(first, third)) {
                healthy.expectMessageClass(GenerationEvent.Admitted.class, WAIT);
                assertEquals(4, finished(healthy).ids().length, "the rest of the batch finished");
            }
            // more poisoned turns than failed steps take a device out: per-turn failures do not count
            for (int i = 0; i < DeviceWorker.MAX_FAILED_STEPS + 1; i++) {
                TestProbe<GenerationEvent> again = testKit.createTestProbe();
                scheduler.tell(new DeviceScheduler.Submit(request(10 + i, "poisoned-" + i, again.ref()), -1));
                assertEquals(MemLongException.Kind.DEVICE_FAILED, failed(again).error().kind());
            }
            TestProbe<GenerationEvent> after = testKit.createTestProbe();
            scheduler.tell(new DeviceScheduler.Submit(request(100, "after", after.ref()), -1));
            after.expectMessageClass(GenerationEvent.Admitted.class, WAIT);
            assertEquals(4, finished(after).ids().length, "the device still serves");
        } finally {
            DeviceWorker.poisonLogits = null;
        }
    }

    private Supplier<DeviceReplica> replica(Path modelDir) {
        return replica(modelDir, 2);
    }

    private Supplier<DeviceReplica> replica(Path modelDir, int slots) {
        return () -> DeviceReplica.load(modelDir, Device.cpu(), ModelOptions.defaults(), ActorTestSupport.RETRIEVER,
                memory, slots);
    }

    private TurnRequest request(long id, String conversation, ActorRef<GenerationEvent> replyTo) {
        int[] prompt = {1, 45, 49, 173, 17};
        var bank = new InMemoryMemoryBank(ActorTestSupport.layout(), memory.capacityTokens(), memory.eviction());
        return new TurnRequest(id, new ConversationKey("t", conversation), bank, prompt, prompt,
                SamplingParams.greedy(4), replyTo);
    }

    private static GenerationEvent.Finished finished(TestProbe<GenerationEvent> probe) {
        while (true) {
            GenerationEvent e = probe.receiveMessage(WAIT);
            if (e instanceof GenerationEvent.Finished f) {
                return f;
            }
            assertInstanceOf(GenerationEvent.Token.class, e, "only tokens before the end");
        }
    }

    /** The turn's failure, past its admission (a turn is admitted before its forward fails). */
    private static GenerationEvent.Failed failed(TestProbe<GenerationEvent> probe) {
        GenerationEvent e = probe.receiveMessage(Duration.ofSeconds(10));
        if (e instanceof GenerationEvent.Admitted) {
            e = probe.receiveMessage(Duration.ofSeconds(10));
        }
        return assertInstanceOf(GenerationEvent.Failed.class, e);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
