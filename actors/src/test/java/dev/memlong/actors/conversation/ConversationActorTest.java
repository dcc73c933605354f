package dev.memlong.actors.conversation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.ActorTestSupport;
import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.MemLongException;
import dev.memlong.actors.Reply;
import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.actors.scheduler.GenerationEvent;
import dev.memlong.actors.scheduler.TurnRequest;
import dev.memlong.memory.KvCodec;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.runtime.tokenizer.Tokenizers;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationSpec;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.SavedWindow;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.Turn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
 * The conversation actor's protocol with the scheduler and the registry, each played by a {@link TestProbe}: the
 * test decides when a turn is admitted, what it generates and when it ends. Storage is real (RocksDB in a temporary
 * directory), so restore after passivation reads what the commits wrote.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConversationActorTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final ConversationKey KEY = new ConversationKey("tenant", "user-1");
    private static final GenerationParams PARAMS = GenerationParams.greedy(8);

    @JUnit5TestKit
    public ActorTestKit testKit = new JUnit5TestKitBuilder()
            .withCustomConfig(ConfigFactory.parseString("pekko.loglevel = WARNING")).build();

    @TempDir
    Path data;

    private ConversationStore store;
    private TextTokenizer tokenizer;
    private ExecutorService blocking;
    private TestProbe<DeviceScheduler.Command> scheduler;
    private TestProbe<ConversationRegistry.Command> registry;

    @BeforeEach
    void open() {
        store = ConversationStore.open(StorageSettings.from(ConfigFactory.load(ActorTestSupport.config(data, ""))));
        tokenizer = Tokenizers.open(ActorTestSupport.model());
        blocking = Executors.newFixedThreadPool(2);
        scheduler = testKit.createTestProbe();
        registry = testKit.createTestProbe();
    }

    @AfterEach
    void close() {
        blocking.shutdown();
        store.close();
        tokenizer.close();
    }

    @Test
    void turnsRunStrictlyInOrderOneAtATime() {
        ActorRef<ConversationActor.Command> conversation = spawn(Duration.ofMinutes(10));
        TestProbe<TurnEvent> caller = testKit.createTestProbe();
        conversation.tell(new ConversationActor.Send(1, "First question?", PARAMS, caller.ref()));
        conversation.tell(new ConversationActor.Send(2, "Second question?", PARAMS, caller.ref()));
        conversation.tell(new ConversationActor.Send(3, "Third question?", PARAMS, caller.ref()));

        for (long turn = 1; turn <= 3; turn++) {
            DeviceScheduler.Submit submit = scheduler.expectMessageClass(DeviceScheduler.Submit.class, WAIT);
            assertEquals(turn, submit.request().id(), "turns are submitted in the order they were sent");
            scheduler.expectNoMessage(Duration.ofMillis(200)); // the next waits for this one to be committed
            assertEquals(turn == 1 ? -1 : 0, submit.preferredDevice(), "after the first turn it sticks to device 0");
            generate(submit.request(), "Answer " + turn + ".", null);
            assertEquals("Answer " + turn + ".", done(caller, turn).text());
        }
        List<Turn> history = store.history(KEY);
        assertEquals(List.of("First question?", "Answer 1.", "Second question?", "Answer 2.", "Third question?",
                "Answer 3."), history.stream().map(Turn::text).toList());
    }

    @Test
    void anIdleConversationAsksToPassivateReleasesItsWindowAndIsRestoredFromStorage() {
        ActorRef<ConversationActor.Command> conversation = spawn(Duration.ofMillis(300));
        TestProbe<TurnEvent> caller = testKit.createTestProbe();
        conversation.tell(new ConversationActor.Send(1, "My dog is called Rex.", PARAMS, caller.ref()));
        DeviceScheduler.Submit first = scheduler.expectMessageClass(DeviceScheduler.Submit.class, WAIT);
        generate(first.request(), "Nice name.", chunk(first.request()));   // the turn moved a chunk to memory
        Reply reply = done(caller, 1);
        assertEquals(1, store.chunks(KEY).size(), "the chunk was committed with the turn");
        assertEquals(reply.memoryTokens(), 8);

        ConversationRegistry.Passivate passivate = registry.expectMessageClass(ConversationRegistry.Passivate.class,
                Duration.ofSeconds(5));
        assertEquals(KEY, passivate.key());
        assertEquals(conversation, passivate.child());
        conversation.tell(ConversationActor.Stop.INSTANCE);
        DeviceScheduler.SaveAndRelease save = scheduler.expectMessageClass(DeviceScheduler.SaveAndRelease.class,
                WAIT);
        assertEquals(KEY, save.key());
        assertEquals(0, save.device(), "its window on device 0 is saved, then dropped");
        SavedWindow window = new SavedWindow(save.modelTag(), 0, new int[] {11, 12, 13}, 14, new byte[] {1, 2, 3});
        save.replyTo().tell(new DeviceScheduler.WindowSaved(KEY, window));
        scheduler.expectTerminated(conversation, WAIT);

        // the registry starts a fresh actor for the next message: it restores the dialogue and memory from storage
        ActorRef<ConversationActor.Command> restored = spawn(Duration.ofMinutes(10));
        restored.tell(new ConversationActor.Send(2, "What is my dog called?", PARAMS, caller.ref()));
        DeviceScheduler.Submit second = nextSubmit();
        assertEquals(-1, second.preferredDevice(), "no device holds its window any more");
        assertEquals(1, second.request().bank().chunkCount(), "memory came back from storage");
        assertArrayEquals(window.tokenIds(), second.request().saved().tokenIds(), "the saved window came back");
        assertEquals(14, second.request().saved().unfedToken());
        assertArrayEquals(window.cacheRows(), second.request().saved().cacheRows());
        String fresh = tokenizer.decode(second.request().freshTokens(), false);
        assertTrue(fresh.contains("My dog is called Rex.") && fresh.contains("Nice name.")
                && fresh.contains("What is my dog called?"), "a device that cannot use the saved window rebuilds it "
                + "from the recent dialogue: " + fresh);
        generate(second.request(), "Rex.", null);
        assertEquals("Rex.", done(caller, 2).text());
        assertEquals(4, store.history(KEY).size());
        assertTrue(store.savedWindow(KEY, save.modelTag()).isEmpty(), "the committed turn made the window stale");
    }

    @Test
    void theRegistrysStopIsNeverDroppedEvenWhenTheStashIsFull() {
        ActorRef<ConversationActor.Command> conversation = spawn(Duration.ofMinutes(10));
        TestProbe<TurnEvent> caller = testKit.createTestProbe();
        conversation.tell(new ConversationActor.Send(1, "A question?", PARAMS, caller.ref()));
        DeviceScheduler.Submit submit = scheduler.expectMessageClass(DeviceScheduler.Submit.class, WAIT);
        // while the turn runs, more queries arrive than the stash holds; then the registry's Stop (it had asked
        // to passivate just before the turn came, and buffers every later message until this actor stops)
        int queries = 30;
        TestProbe<StatusReply<List<Turn>>> reads = testKit.createTestProbe();
        for (int i = 0; i < queries; i++) {
            conversation.tell(new ConversationActor.GetHistory(reads.ref()));
        }
        conversation.tell(ConversationActor.Stop.INSTANCE);

        generate(submit.request(), "An answer.", null);
        assertEquals("An answer.", done(caller, 1).text());
        int refused = 0;
        for (StatusReply<List<Turn>> reply : reads.receiveSeveralMessages(queries, WAIT)) {
            if (reply.isError()) {
                refused++;
                assertEquals(MemLongException.Kind.OVERLOADED,
                        assertInstanceOf(MemLongException.class, reply.getError()).kind());
            }
        }
        assertTrue(refused > 0 && refused < queries, "the stash was full: " + refused + " of " + queries + " refused");
        // the Stop was kept: after the stashed queries the actor saves its window and stops
        DeviceScheduler.SaveAndRelease save = next(DeviceScheduler.SaveAndRelease.class);
        save.replyTo().tell(new DeviceScheduler.WindowSaved(KEY, null));
        scheduler.expectTerminated(conversation, WAIT);
    }

    @Test
    void aStopThatArrivedBeforeARestartStillStopsTheRestartedActor() {
        ActorRef<ConversationActor.Command> conversation = spawn(Duration.ofMinutes(10), "tiny", (key, text) -> {
            if (text.contains("Boom")) {
                throw new IllegalStateException("injected failure before the commit");
            }
        });
        TestProbe<TurnEvent> caller = testKit.createTestProbe();
        conversation.tell(new ConversationActor.Send(1, "Boom?", PARAMS, caller.ref()));
        DeviceScheduler.Submit submit = scheduler.expectMessageClass(DeviceScheduler.Submit.class, WAIT);
        conversation.tell(ConversationActor.Stop.INSTANCE); // stashed while the turn runs
        generate(submit.request(), "Bang.", null); // the commit fails: the actor restarts from storage
        caller.expectMessageClass(TurnEvent.Delta.class, WAIT);
        TurnEvent.Error error = caller.expectMessageClass(TurnEvent.Error.class, WAIT);
        assertEquals(MemLongException.Kind.CONVERSATION_FAILED, error.error().kind());
        // the registry sent its one Stop and waits for this actor to stop: the restarted actor must stop
        scheduler.expectTerminated(conversation, WAIT);
    }

    @Test
    void cancellingAWaitingTurnAnswersItAtOnceAndItNeverRuns() {
        ActorRef<ConversationActor.Command> conversation = spawn(Duration.ofMinutes(10));
        TestProbe<TurnEvent> first = testKit.createTestProbe();
        TestProbe<TurnEvent> cancelled = testKit.createTestProbe();
        TestProbe<TurnEvent> third = testKit.createTestProbe();
        conversation.tell(new ConversationActor.Send(1, "First question?", PARAMS, first.ref()));
        DeviceScheduler.Submit submit = scheduler.expectMessageClass(DeviceScheduler.Submit.class, WAIT);
        conversation.tell(new ConversationActor.Send(2, "Cancelled question?", PARAMS, cancelled.ref()));
        conversation.tell(new ConversationActor.Send(3, "Third question?", PARAMS, third.ref()));
        conversation.tell(new ConversationActor.CancelTurn(2));

        TurnEvent.Error error = cancelled.expectMessageClass(TurnEvent.Error.class, WAIT); // before turn 1 ends
        assertEquals(2, error.turnId());
        assertEquals(MemLongException.Kind.CANCELLED, error.error().kind());
        generate(submit.request(), "Answer 1.", null);
        assertEquals("Answer 1.", done(first, 1).text());
        DeviceScheduler.Submit next = scheduler.expectMessageClass(DeviceScheduler.Submit.class, WAIT);
        assertEquals(3, next.request().id(), "the cancelled turn is skipped");
        generate(next.request(), "Answer 3.", null);
        assertEquals("Answer 3.", done(third, 3).text());
        cancelled.expectNoMessage(Duration.ofMillis(100)); // exactly one terminal event
        assertEquals(List.of("First question?", "Answer 1.", "Third question?", "Answer 3."),
                store.history(KEY).stream().map(Turn::text).toList(), "nothing of the cancelled turn is committed");
    }

    @Test
    void whenTheConversationCannotBeLoadedEveryCallerGetsAnErrorUntilTheRegistryStopsIt() {
        store.openConversation(KEY, ConversationSpec.of("another-model", ActorTestSupport.layout()));
        ActorRef<ConversationActor.Command> conversation = spawn(Duration.ofMinutes(10)); // model "tiny": refused
        TestProbe<TurnEvent> caller = testKit.createTestProbe();
        conversation.tell(new ConversationActor.Send(1, "Hello?", PARAMS, caller.ref()));
        assertEquals(MemLongException.Kind.STORAGE, caller.expectMessageClass(TurnEvent.Error.class, WAIT)
                .error().kind());

        // it hands its key back to the registry through the passivation handshake...
        ConversationRegistry.Passivate passivate = registry.expectMessageClass(ConversationRegistry.Passivate.class,
                WAIT);
        assertEquals(conversation, passivate.child());
        // ...and until the registry's Stop, what the registry still routed to it is answered, not dead-lettered
        conversation.tell(new ConversationActor.Send(2, "Anyone?", PARAMS, caller.ref()));
        TurnEvent.Error second = caller.expectMessageClass(TurnEvent.Error.class, WAIT);
        assertEquals(2, second.turnId());
        assertEquals(MemLongException.Kind.STORAGE, second.error().kind());
        TestProbe<StatusReply<List<Turn>>> reads = testKit.createTestProbe();
        conversation.tell(new ConversationActor.GetHistory(reads.ref()));
        assertTrue(reads.receiveMessage(WAIT).isError());
        conversation.tell(ConversationActor.Stop.INSTANCE);
        scheduler.expectTerminated(conversation, WAIT);
    }

    @Test
    void throughTheRegistryEveryTurnOfAConversationThatCannotLoadIsAnswered() {
        store.openConversation(KEY, ConversationSpec.of("another-model", ActorTestSupport.layout()));
        ActorRef<ConversationRegistry.Command> realRegistry = testKit.spawn(ConversationRegistry.create(
                services(Duration.ofMinutes(10), "tiny", FaultInjector.NONE)));
        TestProbe<TurnEvent> caller = testKit.createTestProbe();
        int turns = 20;
        for (int turn = 1; turn <= turns; turn++) {
            realRegistry.tell(new ConversationRegistry.Deliver(KEY,
                    new ConversationActor.Send(turn, "Hello " + turn + "?", PARAMS, caller.ref())));
        }
        for (TurnEvent event : caller.receiveSeveralMessages(turns, WAIT)) {
            TurnEvent.Error error = assertInstanceOf(TurnEvent.Error.class, event);
            assertTrue(error.error().kind() == MemLongException.Kind.STORAGE
                    || error.error().kind() == MemLongException.Kind.OVERLOADED, error.toString());
        }
        // later messages reach a fresh actor, which tries to load again
        realRegistry.tell(new ConversationRegistry.Deliver(KEY,
                new ConversationActor.Send(turns + 1, "Still there?", PARAMS, caller.ref())));
        assertEquals(MemLongException.Kind.STORAGE, caller.expectMessageClass(TurnEvent.Error.class, WAIT)
                .error().kind());
        testKit.stop(realRegistry);
    }

    /** The next scheduler message of {@code type}, past the window releases a stopping actor also sends. */
    private <T extends DeviceScheduler.Command> T next(Class<T> type) {
        while (true) {
            DeviceScheduler.Command c = scheduler.receiveMessage(WAIT);
            if (type.isInstance(c)) {
                return type.cast(c);
            }
            assertInstanceOf(DeviceScheduler.Release.class, c);
        }
    }

    /** The next turn submitted, past the window releases a stopping actor also sends. */
    private DeviceScheduler.Submit nextSubmit() {
        return next(DeviceScheduler.Submit.class);
    }

    private ActorRef<ConversationActor.Command> spawn(Duration idleTimeout) {
        return spawn(idleTimeout, "tiny", FaultInjector.NONE);
    }

    private ActorRef<ConversationActor.Command> spawn(Duration idleTimeout, String modelId, FaultInjector faults) {
        return testKit.spawn(ConversationActor.create(KEY, services(idleTimeout, modelId, faults), registry.ref()));
    }

    private ConversationServices services(Duration idleTimeout, String modelId, FaultInjector faults) {
        KvLayout layout = ActorTestSupport.layout();
        return new ConversationServices(store, ConversationSpec.of(modelId, layout),
                scheduler.ref(), tokenizer, ChatTemplate.find(ActorTestSupport.model()), tokenizer.eosTokenIds(), 64,
                32, idleTimeout, 4, blocking, faults, tokens -> { });
    }

    /** Plays the device: admits the turn on device 0, streams {@code text} as one token, finishes it. */
    private static void generate(TurnRequest request, String text, NewChunk overflow) {
        ActorRef<GenerationEvent> events = request.replyTo();
        events.tell(new GenerationEvent.Admitted(request.id(), 0));
        if (overflow != null) {
            request.bank().append(overflow);
        }
        events.tell(new GenerationEvent.Token(request.id(), 7, text));
        events.tell(new GenerationEvent.Finished(request.id(), new int[] {7}, text, Reply.StopReason.STOP_TOKEN,
                request.freshTokens().length, 1_000_000, 1_000_000, 0, List.of(), request.bank().tokenCount(), 20, 0,
                List.of(0L)));
    }

    /** A memory chunk of 8 tokens, as the device would move out of the window. */
    private static NewChunk chunk(TurnRequest request) {
        KvLayout layout = request.bank().layout();
        int[] ids = Arrays.copyOf(request.freshTokens(), 8);
        float[] embedding = new float[layout.embeddingDim()];
        embedding[0] = 1;
        float[] kv = new float[8 * layout.kvHeads() * layout.headDim()];
        Arrays.fill(kv, 0.5f);
        return new NewChunk(ids, "My dog is called Rex.", embedding, KvCodec.encode(kv, layout.dtype()),
                KvCodec.encode(kv, layout.dtype()));
    }

    private static Reply done(TestProbe<TurnEvent> caller, long turn) {
        TurnEvent.Delta delta = caller.expectMessageClass(TurnEvent.Delta.class, WAIT);
        assertEquals(turn, delta.turnId());
        TurnEvent event = caller.receiveMessage(WAIT);
        TurnEvent.Done done = assertInstanceOf(TurnEvent.Done.class, event, "then the committed reply: " + event);
        assertEquals(turn, done.turnId());
        return done.reply();
    }
}
