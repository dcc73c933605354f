package dev.memlong.actors;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.memlong.actors.conversation.ConversationActor;
import dev.memlong.actors.conversation.ConversationRegistry;
import dev.memlong.actors.conversation.ConversationServices;
import dev.memlong.actors.conversation.FaultInjector;
import dev.memlong.actors.conversation.TurnEvent;
import dev.memlong.actors.scheduler.DeviceReplica;
import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.actors.scheduler.SchedulerGauges;
import dev.memlong.actors.scheduler.WeightVersion;
import dev.memlong.actors.trainer.RoundObserver;
import dev.memlong.actors.trainer.TrainerActor;
import dev.memlong.actors.trainer.TrainerContext;
import dev.memlong.actors.trainer.TrainerCounters;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.config.ModelConfig;
import dev.memlong.runtime.model.ModelOptions;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.settings.RuntimeSettings;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationSpec;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.ModelVersion;
import dev.memlong.storage.StorageSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embeddable runtime: a model on every configured device behind one scheduler, a conversation actor per
 * conversation, the trainer, and the node's store. The trainer's rounds, model versions and rollback are reached
 * through {@link #train()}, {@link #modelVersions()}, {@link #rollback(long)} and {@link #trainerStats()}; the
 * devices start on the store's serving version.
 *
 * <pre>{@code
 * try (MemLongRuntime rt = MemLongRuntime.start(config)) {
 *     Conversation c = rt.conversation("tenant-a", "user-42");
 *     Reply r = c.send("My dog is called Rex.", GenerationParams.defaults()).join();
 * }
 * }</pre>
 *
 * Configuration is HOCON: {@code memlong.model} and {@code memlong.retriever} (the model and retriever, shared with
 * the rest of the runtime), {@code memlong.actors} (devices, batching, passivation), {@code memlong.memory} and
 * {@code memlong.storage}; each module's {@code reference.conf} documents its keys. Unknown keys and invalid values
 * fail at start-up naming the key, and so does a model directory that is missing or that no device can load
 * ({@link #start} waits for every device's replica; a device that fails is left out and logged).
 * {@link #close()} waits for running turns (up to {@code shutdown-timeout}), cancels the rest, stops the actors and
 * closes the store.
 */
public final class MemLongRuntime implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MemLongRuntime.class);
    /** Numbers the runtimes of this JVM: names of their actors in a shared ActorSystem must not collide. */
    private static final AtomicInteger INSTANCES = new AtomicInteger();
    /** How long start waits for the model replicas (a large model on a slow disk takes minutes). */
    private static final Duration DEVICE_LOAD_TIMEOUT = Duration.ofMinutes(15);
    /** How long a rollback may take: a round to cancel (one step), then every device loading the version. */
    private static final Duration ROLLBACK_TIMEOUT = Duration.ofMinutes(10);
    /** How long close waits for callers' answers already sent to reach them, before the actor system terminates. */
    private static final Duration ANSWER_DELIVERY_TIMEOUT = Duration.ofSeconds(5);

    private final ActorSettings settings;
    private final Path modelDir;
    private final MemorySettings memorySettings;
    private final ActorSystem<?> system;
    private final boolean ownSystem;
    private final RuntimeGuardian.Refs refs;
    private final SchedulerGauges gauges;
    private final ConversationStore store;
    private final TextTokenizer tokenizer;
    private final Retriever retriever;
    private final boolean ownRetriever;
    private final AtomicLong turnIds = new AtomicLong();
    /**
     * The sink of every turn in flight, by turn id (their count is the turns in flight): close() waits for them and
     * answers those no answer reached. A sink is added once spawned, before its ref reaches any actor.
     */
    private final java.util.Map<Long, ActorRef<TurnEvent>> openSinks = new java.util.concurrent.ConcurrentHashMap<>();
    private final LongAdder tokensGenerated = new LongAdder();
    private final LongAdder turnsDone = new LongAdder();
    private final LongAdder turnsFailed = new LongAdder();
    private final TrainerCounters trainer;
    /** Store work off the actors (blocking-pool tasks, the trainer thread): close waits for it. */
    private final InFlightWork storeWork;
    private final int instance;
    private volatile boolean closed;

    private MemLongRuntime(ActorSettings settings, Path modelDir, MemorySettings memorySettings,
                           ActorSystem<?> system, boolean ownSystem, RuntimeGuardian.Refs refs,
                           SchedulerGauges gauges, ConversationStore store, TextTokenizer tokenizer,
                           Retriever retriever, boolean ownRetriever, TrainerCounters trainer, int instance,
                           InFlightWork storeWork) {
        this.instance = instance;
        this.settings = settings;
        this.modelDir = modelDir;
        this.memorySettings = memorySettings;
        this.system = system;
        this.ownSystem = ownSystem;
        this.refs = refs;
        this.gauges = gauges;
        this.store = store;
        this.tokenizer = tokenizer;
        this.retriever = retriever;
        this.ownRetriever = ownRetriever;
        this.trainer = trainer;
        this.storeWork = storeWork;
    }

    /** Starts a runtime with its own ActorSystem. */
    public static MemLongRuntime start(Config config) {
        return builder(config).start();
    }

    public static Builder builder(Config config) {
        return new Builder(config);
    }

    /** Options beyond the configuration. */
    public static final class Builder {
        private final Config config;
        private ActorSystem<?> system;
        private Retriever retriever;
        private FaultInjector faults = FaultInjector.NONE;
        private RoundObserver roundObserver = RoundObserver.NONE;
        private Consumer<DeviceReplica> replicaObserver = replica -> { };

        private Builder(Config config) {
            this.config = config;
        }

        /** Runs inside an existing ActorSystem (its config must contain this module's reference.conf). */
        public Builder actorSystem(ActorSystem<?> existing) {
            this.system = existing;
            return this;
        }

        /** A retriever to use instead of the configured one (not closed by the runtime). */
        public Builder retriever(Retriever shared) {
            this.retriever = shared;
            return this;
        }

        /** A test seam called before each turn commit. */
        public Builder faultInjector(FaultInjector injector) {
            this.faults = injector;
            return this;
        }

        /** A test seam called on the trainer's thread before each optimizer step of a round. */
        public Builder roundObserver(RoundObserver observer) {
            this.roundObserver = observer;
            return this;
        }

        /** Tests: sees each device's replica once it has loaded (on the device's thread). */
        Builder replicaObserver(Consumer<DeviceReplica> observer) {
            this.replicaObserver = observer;
            return this;
        }

        public MemLongRuntime start() {
            return MemLongRuntime.start(this);
        }
    }

    private static MemLongRuntime start(Builder b) {
        Config config = ConfigFactory.load(b.config);
        ActorSettings settings = ActorSettings.from(config);
        RuntimeSettings runtime = StartupChecks.runtimeSettings(config);
        StartupChecks.kvCacheFitsDevices(runtime, settings.devices());
        StorageSettings storage = StorageSettings.from(config);
        Path modelDir = runtime.modelDir();
        ModelConfig model = StartupChecks.modelConfig(modelDir);
        MemorySettings memory = MemorySettings.fromConfig(config, model.numLayers(), model.maxPositionEmbeddings(),
                StartupChecks.memoryLayout(modelDir));
        ModelOptions modelOptions = runtime.modelOptions();
        String modelId = settings.modelId(modelDir);
        List<AutoCloseable> opened = new ArrayList<>();
        ActorSystem<?> system = null;
        boolean own = b.system == null;
        int instance = INSTANCES.incrementAndGet();
        try {
            Retriever retriever = b.retriever != null ? b.retriever : runtime.openRetriever();
            if (b.retriever == null) {
                opened.add(retriever);
            }
            TextTokenizer tokenizer = StartupChecks.tokenizer(modelDir);
            opened.add(tokenizer);
            Optional<ChatTemplate> template = ChatTemplate.find(modelDir);
            ConversationStore store = ConversationStore.open(storage);
            opened.add(store);
            // memlong.memory's capacity and eviction (validated against the chunk size above) for new conversations
            ConversationSpec spec = ConversationSpec.of(modelId,
                    memory.layout(model.numKvHeads(), model.headDim(), retriever.dimension(), retriever.id()), memory);
            Path versions = settings.trainer().versionsDir(storage.path());
            WeightVersion serving = StartupChecks.servingWeights(store, modelId, memory, versions);
            TrainerCounters counters = new TrainerCounters(serving.version());
            List<Supplier<DeviceReplica>> replicas = new ArrayList<>();
            for (String device : settings.devices()) {
                replicas.add(() -> {
                    DeviceReplica replica = DeviceReplica.load(modelDir, DeviceNames.parse(device), modelOptions,
                            retriever, memory, settings.maxBatch(), serving);
                    b.replicaObserver.accept(replica);
                    return replica;
                });
            }
            int restore = settings.restoreTokens() > 0 ? settings.restoreTokens() : memory.localWindow() / 2;
            CompletableFuture<RuntimeGuardian.Refs> refs = new CompletableFuture<>();
            CompletableFuture<List<DeviceScheduler.DeviceStatus>> loaded = new CompletableFuture<>();
            SchedulerGauges gauges = new SchedulerGauges(settings.devices().size());
            InFlightWork storeWork = new InFlightWork();
            RuntimeGuardian.Setup setup = new RuntimeGuardian.Setup(replicas, settings, gauges,
                    scheduler -> new TrainerContext(store, modelId, modelDir, memory, tokenizer, template, retriever,
                            settings.trainer(), versions, scheduler, counters, b.roundObserver, storeWork),
                    (scheduler, trainer, blocking) -> new ConversationServices(store, spec, scheduler, tokenizer,
                            template, tokenizer.eosTokenIds(), restore, 32, settings.idleTimeout(),
                            settings.maxPendingTurns(), storeWork.tracking(blocking), b.faults,
                            tokens -> trainer.tell(new TrainerActor.DialogueCommitted(tokens))), refs, loaded);
            // Not the guardian of an own system, whose stop would terminate the system at once: close stops the
            // runtime's actors first and terminates the system only once callers have their answers (a commit that
            // outlives its conversation actor answers through the caller's sink actor, which lives in the system).
            if (own) {
                system = ActorSystem.create(Behaviors.empty(), "memlong", config);
            }
            (own ? system : b.system).systemActorOf(RuntimeGuardian.create(setup), "memlong-runtime-" + instance,
                    Props.empty());
            RuntimeGuardian.Refs started = StartupChecks.await(refs, Duration.ofSeconds(60),
                    "the runtime's actors did not start");
            List<DeviceScheduler.DeviceStatus> devices = StartupChecks.await(loaded, DEVICE_LOAD_TIMEOUT,
                    "the model replicas did not load");
            if (devices.stream().allMatch(d -> d.failure() != null)) {
                started.guardian().tell(RuntimeGuardian.Shutdown.INSTANCE);
                DeviceScheduler.DeviceStatus first = devices.get(0);
                throw new IllegalStateException("no device could load the model in " + modelDir.toAbsolutePath()
                        + " (memlong.model.dir): device " + first.device() + " (" + first.name() + "): "
                        + first.failure().getMessage(), first.failure());
            }
            return new MemLongRuntime(settings, modelDir, memory, own ? system : b.system, own, started, gauges,
                    store, tokenizer, retriever, b.retriever == null, counters, instance, storeWork);
        } catch (RuntimeException e) {
            if (system != null) {
                system.terminate();
                try {
                    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            for (AutoCloseable c : opened.reversed()) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    /** The conversation {@code id} of {@code tenant}. */
    public Conversation conversation(String tenant, String id) {
        return new Conversation(this, new ConversationKey(tenant, id));
    }

    /** A conversation of the default tenant. */
    public Conversation conversation(String id) {
        return conversation(ConversationKey.DEFAULT_TENANT, id);
    }

    /** The actor runtime's settings ({@code memlong.actors}). */
    public ActorSettings settings() {
        return settings;
    }

    /** The model directory every device serves ({@code memlong.model.dir}). */
    public Path modelDir() {
        return modelDir;
    }

    public MemorySettings memorySettings() {
        return memorySettings;
    }

    /** The ActorSystem the runtime runs in. */
    public ActorSystem<?> actorSystem() {
        return system;
    }

    /** Conversation actors alive now (passivated ones are not). */
    public int activeConversations() {
        return AskPattern.<ConversationRegistry.Command, Integer>ask(refs.registry(),
                ConversationRegistry.CountActive::new, settings.askTimeout(), system.scheduler())
                .toCompletableFuture().join();
    }

    /** The runtime's counters now; reads atomics only, never asks an actor (safe on a network thread). */
    public RuntimeStats stats() {
        TrainerStats rounds = trainer.snapshot();
        return new RuntimeStats(openSinks.size(), tokensGenerated.sum(), turnsDone.sum(), turnsFailed.sum(),
                gauges.batchSize(), gauges.queueDepth(), gauges.retrievals(), gauges.retrievalNanos(),
                store.chunkReads(), rounds.roundsRun(), rounds.roundsPublished(), settings.devices().size(), settings.maxBatch(),
                settings.maxQueue());
    }

    /** The trainer's counters now (rounds, last held-out losses, serving version); never asks an actor. */
    public TrainerStats trainerStats() {
        return trainer.snapshot();
    }

    /** The model version the devices serve (0: the base model). */
    public long servingVersion() {
        return trainer.snapshot().servingVersion();
    }

    /**
     * Runs a training round now, or after the round that is running; completes with its report once it is over
     * (for a published version: once every device serves it). Works whether or not automatic rounds are on.
     */
    public CompletionStage<RoundReport> train() {
        if (closed) {
            throw new MemLongException(MemLongException.Kind.SHUTTING_DOWN, "the runtime is closed");
        }
        // a round takes minutes on a real model: the ask waits for it (the trainer always answers, also on stop)
        return AskPattern.<TrainerActor.Command, RoundReport>ask(refs.trainer(), TrainerActor.TrainNow::new,
                Duration.ofDays(1), system.scheduler());
    }

    /** Published model versions of the served model, oldest first (version 0, the base model, is not listed). */
    public List<ModelVersion> modelVersions() {
        return store.modelVersions(settings.modelId(modelDir));
    }

    /**
     * Makes {@code version} (0: the base model, else a published version) the serving version: stored, then swapped
     * into every device between two steps. A round that is training is cancelled first. Completes with the version,
     * or fails with {@code invalid} for an unknown version.
     */
    public CompletionStage<Long> rollback(long version) {
        if (closed) {
            throw new MemLongException(MemLongException.Kind.SHUTTING_DOWN, "the runtime is closed");
        }
        return AskPattern.<TrainerActor.Command, org.apache.pekko.pattern.StatusReply<Long>>ask(refs.trainer(),
                        replyTo -> new TrainerActor.Rollback(version, replyTo), ROLLBACK_TIMEOUT, system.scheduler())
                .thenApply(reply -> {
                    if (reply.isError()) {
                        Throwable t = reply.getError();
                        throw t instanceof RuntimeException re ? re : new MemLongException(
                                MemLongException.Kind.STORAGE, t.getMessage(), t);
                    }
                    return reply.getValue();
                });
    }

    /** For tests: the node's store. */
    ConversationStore store() {
        return store;
    }

    /** For tests: completes once {@link #close()} has stopped every actor of the runtime. */
    CompletableFuture<Void> actorsStopped() {
        return refs.stopped();
    }

    long nextTurnId() {
        if (closed) {
            throw new MemLongException(MemLongException.Kind.SHUTTING_DOWN, "the runtime is closed");
        }
        return turnIds.incrementAndGet();
    }

    void deliver(ConversationKey key, ConversationActor.Command message) {
        refs.registry().tell(new ConversationRegistry.Deliver(key, message));
    }

    ActorRef<TurnEvent> turnSink(long turnId, Consumer<TurnEvent> handler) {
        // turn ids restart at 1 in every runtime, and runtimes may share an ActorSystem: the name carries both
        ActorRef<TurnEvent> sink = system.systemActorOf(TurnSink.create(turnId, event -> {
            switch (event) {
                case TurnEvent.Delta d -> {
                    if (d.tokenId() >= 0) {
                        tokensGenerated.increment();
                    }
                }
                case TurnEvent.Done d -> {
                    turnsDone.increment();
                    openSinks.remove(turnId);
                }
                case TurnEvent.Error e -> {
                    turnsFailed.increment();
                    openSinks.remove(turnId);
                }
            }
            handler.accept(event);
        }), "turn-" + instance + "-" + turnId, Props.empty());
        openSinks.put(turnId, sink); // only now: a spawn that throws leaves no turn in flight (close() waits for them)
        return sink;
    }

    <T> CompletionStage<T> ask(ConversationKey key, Conversation.Request<T> request) {
        return AskPattern.<ConversationRegistry.Command, org.apache.pekko.pattern.StatusReply<T>>ask(refs.registry(),
                        replyTo -> new ConversationRegistry.Deliver(key, request.apply(replyTo)), settings.askTimeout(),
                        system.scheduler())
                .thenApply(reply -> {
                    if (reply.isError()) {
                        Throwable t = reply.getError();
                        throw t instanceof RuntimeException re ? re : new MemLongException(
                                MemLongException.Kind.STORAGE, t.getMessage(), t);
                    }
                    return reply.getValue();
                });
    }

    /**
     * Waits for running turns (up to {@code shutdown-timeout}), then stops every actor (cancelling what still
     * runs), closes the model replicas, the store and the tokenizer. A turn whose commit had already started when
     * its actor stopped is answered by the commit's outcome (its reply if it was stored), not by an error. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        awaitTurnsAnswered(settings.shutdownTimeout());
        refs.guardian().tell(RuntimeGuardian.Shutdown.INSTANCE);
        try {
            stopActorsAndStoreWork();
        } finally {
            // Closing waits for a write in progress, and a store call after it fails: a commit still running now
            // ends either way and answers its caller with that outcome, before the system terminates below.
            store.close();
            try {
                answerLateTurnsAndTerminate();
            } finally {
                tokenizer.close();
                if (ownRetriever) {
                    retriever.close();
                }
            }
        }
    }

    private void stopActorsAndStoreWork() {
        try {
            try {
                refs.stopped().get(settings.shutdownTimeout().toMillis() + 10_000, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                LOG.warn("{}: the actors did not stop within {} ms; closing anyway", this,
                        settings.shutdownTimeout().toMillis() + 10_000);
            }
            // Commits (and other store calls) the stopped actors left on the blocking pool, and a round the trainer
            // thread still runs, use the store: closing it under them would fail a commit in flight.
            if (!storeWork.awaitIdle(settings.shutdownTimeout())) {
                LOG.warn("{}: {} store task(s) still running after {}; closing the store under them (they fail "
                        + "with a closed store)", this, storeWork.running(), settings.shutdownTimeout());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("{}: interrupted while closing; closing the store now", this);
        } catch (Exception e) {
            LOG.warn("{}: stopping the actors failed; closing the store anyway", this, e);
        }
    }

    private void answerLateTurnsAndTerminate() {
        // a commit that outlived its actor answers through the caller's sink actor; the store is closed now, so
        // whatever has not arrived by then never will (a message lost on the way): those callers get SHUTTING_DOWN,
        // through their sinks so that it stays ordered after any event already on its way
        awaitTurnsAnswered(ANSWER_DELIVERY_TIMEOUT);
        openSinks.forEach((turnId, sink) -> sink.tell(TurnSink.unanswered(turnId)));
        if (!ownSystem) {
            return;
        }
        awaitTurnsAnswered(ANSWER_DELIVERY_TIMEOUT); // the answers just sent (a sink stopped by terminate answers too)
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.warn("{}: interrupted while the actor system terminated", this);
        } catch (Exception e) {
            LOG.warn("{}: terminating the actor system failed", this, e);
        }
    }

    /** Waits until every turn's caller has its answer (none in flight), at most {@code timeout}. */
    private void awaitTurnsAnswered(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!openSinks.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** For logs. */
    @Override
    public String toString() {
        return "MemLongRuntime(" + modelDir + ", devices " + settings.devices() + ")";
    }
}
