package dev.memlong.actors.conversation;

import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.MemLongException;
import dev.memlong.actors.Reply;
import dev.memlong.actors.RetrievedChunk;
import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.actors.scheduler.GenerationEvent;
import dev.memlong.actors.scheduler.TurnRequest;
import dev.memlong.runtime.tokenizer.ChatMessage;
import dev.memlong.storage.ChunkSummary;
import dev.memlong.storage.CommittedTurn;
import dev.memlong.storage.ConversationInfo;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.Turn;
import dev.memlong.storage.Role;
import dev.memlong.storage.SavedWindow;
import dev.memlong.storage.TurnCommit;
import dev.memlong.storage.TurnMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One conversation (tenant + id). Loads its state from storage (stashing messages until it arrives), renders
 * each user message with the chat template, hands the turn to the device scheduler, streams the reply to the
 * caller, and commits the turn (user message, reply, and the chunks the turn moved to memory) in one storage
 * write batch before answering. Turns run strictly one after another; messages arriving meanwhile wait in the
 * stash. After {@code idleTimeout} without messages it asks its registry to passivate it, releasing its window,
 * cache slot and in-RAM embeddings.
 *
 * <p>States: {@link #loading()}, {@link #idle()}, {@link #generating()}, {@link #committing}, {@link #busy()},
 * {@link #closing()}, and {@link #failed} after its state could not be loaded. A failure restarts it from storage;
 * the caller of the failed turn (and every waiting caller) gets an error. A turn whose commit already runs when the
 * actor stops or restarts is answered by the commit's outcome instead: never an error for a stored turn.
 *
 * <p>Control messages never wait behind requests: {@link Stop} always finds room in the stash (one slot is kept
 * for it; the registry sends it once), {@link CancelTurn} is handled at once in every state, and a stale
 * {@link IdleTimeout} is dropped (only {@link #idle()} passivates, and it arms the timeout again).
 */
public final class ConversationActor {

    /** Messages of a conversation. */
    public sealed interface Command {}

    /**
     * A user message; the reply streams to {@code replyTo}.
     *
     * @param systemPrompt the conversation's system prompt from this turn on, or null to keep the current one
     */
    public record Send(long turnId, String text, String systemPrompt, GenerationParams params,
                       ActorRef<TurnEvent> replyTo) implements Command {

        /** A user message that keeps the conversation's system prompt. */
        public Send(long turnId, String text, GenerationParams params, ActorRef<TurnEvent> replyTo) {
            this(turnId, text, null, params, replyTo);
        }
    }

    /**
     * Cancels the turn if it is still running (its slot is freed at the device's next step) or still waiting (its
     * caller gets {@code cancelled} at once and it never runs). Too late once the reply is complete and committing.
     */
    public record CancelTurn(long turnId) implements Command {}

    /** The whole dialogue, chronological. */
    public record GetHistory(ActorRef<StatusReply<List<Turn>>> replyTo) implements Command {}

    /** The memory chunks, chronological. */
    public record GetMemory(ActorRef<StatusReply<List<ChunkSummary>>> replyTo) implements Command {}

    /** Deletes the conversation: dialogue, memory, window. Replies whether it existed. */
    public record Forget(ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

    /** Marks the conversation as (not) usable for training; replies with the flag as stored. */
    public record SetTrainingOptOut(boolean optOut, ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

    /** From the registry, after this actor asked to passivate: release everything and stop. */
    public enum Stop implements Command { INSTANCE }

    private record Loaded(StagingBank bank, List<ChatMessage> recent, String systemPrompt, SavedWindow saved)
            implements Command {}

    private record LoadFailed(Throwable error) implements Command {}

    private record Event(GenerationEvent event) implements Command {}

    private record CommitDone(CommittedTurn result, Throwable error) implements Command {}

    private record WindowToSave(SavedWindow window) implements Command {}

    private record Answered(Runnable reply, boolean reload) implements Command {}

    private enum Closed implements Command { INSTANCE }

    private enum IdleTimeout implements Command { INSTANCE }

    /**
     * The turn in progress.
     *
     * @param newSystemPrompt the system prompt the turn sets (stored with it), or null
     */
    private record Current(Send send, int userTokens, String newSystemPrompt) {}

    /**
     * The current turn's commit, running on the blocking pool.
     *
     * @param stagedChunks how many staged chunks it writes (the caller's reply maps their sequence numbers)
     */
    private record Committing(CompletableFuture<CommittedTurn> stored, GenerationEvent.Finished finished,
                              int stagedChunks) {}

    /** For what happens off the actor's thread (where its context's logger must not be used). */
    private static final Logger LOG = LoggerFactory.getLogger(ConversationActor.class);

    /** How long passivation waits for the device to copy the window out (it answers between two steps). */
    private static final Duration WINDOW_SAVE_TIMEOUT = Duration.ofSeconds(30);
    /** Stash slots requests never take, so that the registry's {@link Stop} always fits. */
    private static final int CONTROL_ROOM = 1;

    private final ActorContext<Command> ctx;
    private final StashBuffer<Command> stash;
    private final ConversationKey key;
    private final ConversationServices services;
    private final ActorRef<ConversationRegistry.Command> registry;
    private final DialoguePrompt prompt;
    private final ActorRef<GenerationEvent> events;
    private final DialogueContext dialogue;
    private StagingBank bank;
    private int device = -1;
    private Current current;
    /** The current turn's commit while it runs (state {@link #committing}), else null. */
    private Committing committing;
    /** Stop arrived (stashed or handled); a restart or a failed load must not lose it, the registry waits for it. */
    private boolean stopRequested;
    /** Turns cancelled while waiting in the stash: their callers were answered, they are skipped when they come up. */
    private final Set<Long> cancelledWaiting = new HashSet<>();

    public static Behavior<Command> create(ConversationKey key, ConversationServices services,
                                           ActorRef<ConversationRegistry.Command> registry) {
        return Behaviors.<Command>supervise(Behaviors.setup(ctx -> Behaviors.withStash(
                        Math.max(1, services.maxPendingTurns()) + 8 + CONTROL_ROOM,
                        stash -> new ConversationActor(ctx, stash, key, services, registry).start())))
                .onFailure(Exception.class, SupervisorStrategy.restart());
    }

    private ConversationActor(ActorContext<Command> ctx, StashBuffer<Command> stash, ConversationKey key,
                              ConversationServices services, ActorRef<ConversationRegistry.Command> registry) {
        this.ctx = ctx;
        this.stash = stash;
        this.key = key;
        this.services = services;
        this.registry = registry;
        this.prompt = services.prompt();
        this.events = ctx.messageAdapter(GenerationEvent.class, Event::new);
        this.dialogue = new DialogueContext(services.recentMessages());
    }

    private Behavior<Command> start() {
        ctx.pipeToSelf(CompletableFuture.supplyAsync(this::load, services.blocking()),
                (loaded, error) -> error == null ? loaded : new LoadFailed(error));
        return loading();
    }

    /** Runs on the blocking dispatcher. */
    private Loaded load() {
        ConversationInfo info = services.store().openConversation(key, services.spec());
        StagingBank staging = new StagingBank(services.store().activate(key));
        int keep = services.recentMessages();
        List<ChatMessage> messages = new ArrayList<>();
        for (Turn t : services.store().history(key, Math.max(0, info.turnCount() - keep), keep)) {
            if (t.role() != Role.SYSTEM) { // the system prompt is kept apart: a rebuilt window starts with it
                messages.add(new ChatMessage(t.role().name().toLowerCase(Locale.ROOT), t.text()));
            }
        }
        return new Loaded(staging, messages, services.store().systemPrompt(key).orElse(null),
                services.store().savedWindow(key, modelTag()).orElse(null));
    }

    private Behavior<Command> loading() {
        return signals(Behaviors.receive(Command.class)
                .onMessage(Loaded.class, this::onLoaded)
                .onMessage(LoadFailed.class, this::onLoadFailed)
                .onMessage(Event.class, e -> Behaviors.same())
                .onMessage(Command.class, this::stashOrRefuse));
    }

    private Behavior<Command> onLoaded(Loaded loaded) {
        bank = loaded.bank();
        dialogue.restore(loaded.recent(), loaded.systemPrompt(), loaded.saved());
        return stash.unstashAll(idle());
    }

    private Behavior<Command> onLoadFailed(LoadFailed failed) {
        ctx.getLog().error("conversation {} cannot be loaded", key, failed.error());
        MemLongException error = new MemLongException(MemLongException.Kind.STORAGE,
                "conversation " + key + " cannot be loaded: " + failed.error().getMessage(), failed.error());
        refuseStash(error);
        if (stopRequested) {
            return Behaviors.stopped(); // the registry already buffers this conversation's messages until it stops
        }
        // The registry keeps routing here until it knows: stopping now would leave those callers on dead letters.
        // Passivating hands the key back through the usual handshake (the registry buffers new messages, sends Stop
        // and starts a fresh actor, which tries to load again); until Stop, every request gets the load error.
        registry.tell(new ConversationRegistry.Passivate(key, ctx.getSelf()));
        return failed(error);
    }

    private Behavior<Command> failed(MemLongException error) {
        return signals(Behaviors.receive(Command.class)
                .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
                .onMessage(Command.class, c -> {
                    refuse(c, error);
                    return Behaviors.same();
                }));
    }

    private Behavior<Command> idle() {
        ctx.setReceiveTimeout(services.idleTimeout(), IdleTimeout.INSTANCE);
        return signals(Behaviors.receive(Command.class)
                .onMessage(Send.class, this::onSend)
                .onMessage(GetHistory.class, q -> query(() -> services.store().history(key), q.replyTo()))
                .onMessage(GetMemory.class, q -> query(() -> services.store().chunks(key), q.replyTo()))
                .onMessage(Forget.class, this::onForget)
                .onMessage(SetTrainingOptOut.class, q -> query(() -> {
                    services.store().setTrainingOptOut(key, q.optOut());
                    return q.optOut();
                }, q.replyTo()))
                .onMessageEquals(IdleTimeout.INSTANCE, this::onIdleTimeout)
                .onMessageEquals(Stop.INSTANCE, this::onStop)
                .onMessage(CancelTurn.class, c -> Behaviors.same())
                .onMessage(Event.class, e -> Behaviors.same()));
    }

    private Behavior<Command> onSend(Send send) {
        if (cancelledWaiting.remove(send.turnId())) {
            return Behaviors.same(); // cancelled while it waited; its caller already has the error
        }
        if (send.text().isBlank()) {
            send.replyTo().tell(new TurnEvent.Error(send.turnId(),
                    new MemLongException(MemLongException.Kind.INVALID, "a message needs some text")));
            return Behaviors.same();
        }
        String newSystem = dialogue.changedSystemPrompt(send.systemPrompt());
        DialoguePrompt.Tokens tokens;
        try {
            tokens = prompt.turn(dialogue.recentMessages(), newSystem != null ? newSystem : dialogue.systemPrompt(),
                    newSystem != null, send.text());
        } catch (RuntimeException e) {
            send.replyTo().tell(new TurnEvent.Error(send.turnId(), new MemLongException(MemLongException.Kind.INVALID,
                    "cannot render the message with the chat template: " + e.getMessage(), e)));
            return Behaviors.same();
        }
        TurnRequest request = new TurnRequest(send.turnId(), key, bank, tokens.resume(), tokens.fresh(),
                dialogue.savedWindow(),
                send.params().toSampling(services.stopTokenIds()), events);
        services.scheduler().tell(new DeviceScheduler.Submit(request, device));
        current = new Current(send, tokens.userTokens(), newSystem);
        return generating();
    }

    private Behavior<Command> generating() {
        ctx.cancelReceiveTimeout();
        return signals(Behaviors.receive(Command.class)
                .onMessage(Event.class, this::onEvent)
                .onMessage(CancelTurn.class, this::onCancel)
                .onMessage(Command.class, this::stashOrRefuse));
    }

    private Behavior<Command> onCancel(CancelTurn cancel) {
        if (current != null && cancel.turnId() == current.send().turnId()) {
            services.scheduler().tell(new DeviceScheduler.Cancel(cancel.turnId())); // the device answers cancelled
        } else {
            cancelWaiting(cancel.turnId());
        }
        return Behaviors.same();
    }

    /** Cancels the turn {@code turnId} if it waits in the stash: its caller is answered now, the turn never runs. */
    private void cancelWaiting(long turnId) {
        stash.forEach(c -> {
            if (c instanceof Send s && s.turnId() == turnId && cancelledWaiting.add(turnId)) {
                s.replyTo().tell(new TurnEvent.Error(turnId, new MemLongException(MemLongException.Kind.CANCELLED,
                        "turn " + turnId + " was cancelled before it ran")));
            }
        });
    }

    private Behavior<Command> onEvent(Event wrapped) {
        GenerationEvent event = wrapped.event();
        if (current == null || event.requestId() != current.send().turnId()) {
            return Behaviors.same(); // a late event of an earlier, failed turn
        }
        ActorRef<TurnEvent> caller = current.send().replyTo();
        return switch (event) {
            case GenerationEvent.Admitted admitted -> {
                device = admitted.device();
                yield Behaviors.same();
            }
            case GenerationEvent.Token token -> {
                caller.tell(new TurnEvent.Delta(token.requestId(), token.text(), token.tokenId()));
                yield Behaviors.same();
            }
            case GenerationEvent.Finished finished -> onFinished(finished);
            case GenerationEvent.Failed failed -> {
                bank.discard();
                if (failed.error().kind() != MemLongException.Kind.OVERLOADED) {
                    device = -1; // the worker dropped the window
                }
                caller.tell(new TurnEvent.Error(failed.requestId(), failed.error()));
                current = null;
                yield stash.unstashAll(idle());
            }
        };
    }

    private Behavior<Command> onFinished(GenerationEvent.Finished finished) {
        services.faults().beforeCommit(key, current.send().text());
        List<TurnMessage> messages = new ArrayList<>(3);
        if (current.newSystemPrompt() != null) {
            messages.add(new TurnMessage(Role.SYSTEM, current.newSystemPrompt(), 0));
        }
        messages.add(new TurnMessage(Role.USER, current.send().text(), current.userTokens()));
        messages.add(new TurnMessage(Role.ASSISTANT, finished.text(), finished.ids().length));
        TurnCommit commit = new TurnCommit(messages, bank.staged());
        boolean staleWindow = dialogue.savedWindow() != null;
        CompletableFuture<CommittedTurn> stored = CompletableFuture.supplyAsync(() -> {
            services.faults().beforeStore(key);
            CommittedTurn committed = services.store().commitTurn(key, commit);
            if (staleWindow) {
                deleteStaleWindow();
            }
            return committed;
        }, services.blocking());
        committing = new Committing(stored, finished, commit.chunks().size());
        ctx.pipeToSelf(stored, CommitDone::new);
        return committing(finished);
    }

    /**
     * Runs on the blocking pool, after the turn is stored: the commit made the saved window stale, only its space is
     * left to free. A failure here must not fail the turn, which is stored (its caller would retry it).
     */
    private void deleteStaleWindow() {
        try {
            services.store().deleteWindow(key);
        } catch (RuntimeException e) {
            LOG.warn("conversation {}: deleting its stale saved window failed (it is never used again)", key, e);
        }
    }

    private Behavior<Command> committing(GenerationEvent.Finished finished) {
        return signals(Behaviors.receive(Command.class)
                .onMessage(CommitDone.class, done -> onCommitted(finished, done))
                .onMessage(Event.class, e -> Behaviors.same())
                // CancelTurn of the current turn is ignored there: its reply is complete and being committed (too
                // late); a waiting turn is still cancelled
                .onMessage(Command.class, this::stashOrRefuse));
    }

    private Behavior<Command> onCommitted(GenerationEvent.Finished f, CommitDone done) {
        Send send = current.send();
        int userTokens = current.userTokens();
        String newSystem = current.newSystemPrompt();
        current = null;
        committing = null;
        if (done.error() != null) {
            ctx.getLog().error("conversation {}: turn {} cannot be committed", key, send.turnId(), done.error());
            bank.discard();
            services.scheduler().tell(new DeviceScheduler.Release(key, device)); // the window holds the lost turn
            device = -1;
            send.replyTo().tell(notCommitted(send, done.error()));
            return stash.unstashAll(idle());
        }
        Reply reply = reply(f, bank.committed(done.result().chunkSeqs()));
        dialogue.committed(newSystem, send.text(), f.text());
        services.dialogueCommitted().accept(userTokens + f.ids().length);
        send.replyTo().tell(new TurnEvent.Done(send.turnId(), reply));
        return stash.unstashAll(idle());
    }

    private static TurnEvent.Error notCommitted(Send send, Throwable error) {
        return new TurnEvent.Error(send.turnId(), new MemLongException(MemLongException.Kind.STORAGE,
                "the turn could not be committed: " + error.getMessage(), error));
    }

    /**
     * The actor stops (the runtime closes) or restarts while the current turn's commit runs on the blocking pool.
     * The commit goes on (the runtime's close waits for store work before it closes the store), so its outcome, not
     * the stop, answers the caller: a {@code shutting down} error for a turn that is then stored would make a client
     * that retries store it twice. Runs where the commit completes: uses only the actor's final fields.
     */
    private void answerWhenCommitted(Committing commit, Current turn) {
        Send send = turn.send();
        commit.stored().whenComplete((result, error) -> {
            if (error != null) {
                LOG.error("conversation {}: turn {} cannot be committed", key, send.turnId(), error);
                send.replyTo().tell(notCommitted(send, error));
                return;
            }
            Map<Long, Long> seqs = StagingBank.storedSeqs(commit.stagedChunks(), result.chunkSeqs());
            services.dialogueCommitted().accept(turn.userTokens() + commit.finished().ids().length);
            send.replyTo().tell(new TurnEvent.Done(send.turnId(), reply(commit.finished(), seqs)));
        });
    }

    /**
     * The caller's reply to a finished turn; {@code stored} maps the sequence numbers chunks had while staged to the
     * ones storage gave them (chunks this turn moved to memory can be retrieved by its later steps).
     */
    private static Reply reply(GenerationEvent.Finished f, Map<Long, Long> stored) {
        List<RetrievedChunk> retrieved = f.retrieved().stream()
                .map(c -> new RetrievedChunk(stored.getOrDefault(c.seq(), c.seq()), c.score(), c.text()))
                .toList();
        double decodeSeconds = f.decodeNanos() / 1e9;
        double tokensPerSecond = f.ids().length > 1 && decodeSeconds > 0 ? (f.ids().length - 1) / decodeSeconds : 0;
        return new Reply(f.text(), f.promptTokens(), f.ids().length, Duration.ofNanos(f.ttftNanos()),
                tokensPerSecond, Duration.ofNanos(f.retrievalNanos()), retrieved, f.stopReason(), f.memoryTokens(),
                f.windowTokens(), f.device(), Arrays.stream(f.ids()).boxed().toList(), f.modelVersions());
    }

    private <T> Behavior<Command> query(Supplier<T> read, ActorRef<StatusReply<T>> replyTo) {
        ctx.pipeToSelf(CompletableFuture.supplyAsync(read, services.blocking()), (value, error) -> new Answered(
                () -> replyTo.tell(error == null ? StatusReply.success(value) : StatusReply.error(error)), false));
        return busy();
    }

    private Behavior<Command> onForget(Forget forget) {
        services.scheduler().tell(new DeviceScheduler.Release(key, -1));
        device = -1;
        StagingBank closing = bank;
        bank = null;
        dialogue.clear();
        ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> {
            closing.close();
            return services.store().forget(key);
        }, services.blocking()), (existed, error) -> new Answered(() -> forget.replyTo().tell(
                error == null ? StatusReply.success(existed) : StatusReply.error(error)), true));
        return busy();
    }

    private Behavior<Command> busy() {
        ctx.cancelReceiveTimeout();
        return signals(Behaviors.receive(Command.class)
                .onMessage(Answered.class, this::onAnswered)
                .onMessage(Event.class, e -> Behaviors.same())
                .onMessage(Command.class, this::stashOrRefuse));
    }

    private Behavior<Command> onAnswered(Answered answered) {
        answered.reply().run();
        return answered.reload() ? start() : stash.unstashAll(idle());
    }

    private Behavior<Command> onIdleTimeout() {
        registry.tell(new ConversationRegistry.Passivate(key, ctx.getSelf()));
        return Behaviors.same();
    }

    /**
     * Passivation. When a device holds the window, it is saved first (so that the next message continues exactly
     * where this one left off), then the bank closes.
     */
    private Behavior<Command> onStop() {
        stopRequested = true;
        ctx.cancelReceiveTimeout();
        if (device < 0) {
            services.scheduler().tell(new DeviceScheduler.Release(key, -1));
            return close(null);
        }
        ctx.ask(DeviceScheduler.WindowSaved.class, services.scheduler(), WINDOW_SAVE_TIMEOUT,
                replyTo -> new DeviceScheduler.SaveAndRelease(key, device, modelTag(), replyTo),
                (answer, error) -> new WindowToSave(answer == null ? null : answer.window()));
        device = -1;
        return signals(Behaviors.receive(Command.class)
                .onMessage(WindowToSave.class, w -> close(w.window()))
                .onMessage(Command.class, this::stashOrRefuse));
    }

    /** Saves {@code window} (if any) and closes the bank on the blocking dispatcher, then stops. */
    private Behavior<Command> close(SavedWindow window) {
        StagingBank closing = bank;
        bank = null;
        ctx.pipeToSelf(CompletableFuture.runAsync(() -> {
            try {
                if (window != null) {
                    services.store().saveWindow(key, window);
                }
            } finally {
                closing.close();
            }
        }, services.blocking()), (ok, error) -> {
            if (error != null) {
                ctx.getLog().warn("conversation {}: saving its window at passivation failed; it will be rebuilt",
                        key, error);
            }
            return Closed.INSTANCE;
        });
        return closing();
    }

    /** The model a saved window's cache rows belong to. */
    private String modelTag() {
        return services.spec().modelId();
    }

    private Behavior<Command> closing() {
        return signals(Behaviors.receive(Command.class)
                .onMessageEquals(Closed.INSTANCE, Behaviors::stopped)
                .onMessage(Command.class, this::stashOrRefuse));
    }

    /** For states that handle only their own messages: requests wait in the stash (or are refused when it is full). */
    private Behavior<Command> stashOrRefuse(Command command) {
        switch (command) {
            case Stop stop -> {
                stopRequested = true;
                stash.stash(stop); // requests leave CONTROL_ROOM free, and the registry sends Stop once
            }
            case CancelTurn cancel -> cancelWaiting(cancel.turnId());
            case IdleTimeout timeout -> { } // stale: not idle now, and idle() arms the timeout again
            default -> {
                if (stash.size() >= stash.capacity() - CONTROL_ROOM
                        || (command instanceof Send && pendingSends() >= services.maxPendingTurns())) {
                    refuse(command, new MemLongException(MemLongException.Kind.OVERLOADED, "overloaded: conversation "
                            + key + " has " + services.maxPendingTurns() + " messages waiting"));
                } else {
                    stash.stash(command);
                }
            }
        }
        return Behaviors.same();
    }

    /** Sends waiting in the stash, but those already answered as cancelled (they only wait to be skipped). */
    private int pendingSends() {
        int[] n = {0};
        stash.forEach(c -> n[0] += c instanceof Send s && !cancelledWaiting.contains(s.turnId()) ? 1 : 0);
        return n[0];
    }

    /** Answers every request in the stash (but turns already answered as cancelled) with {@code error}. */
    private void refuseStash(MemLongException error) {
        stash.forEach(c -> {
            if (!(c instanceof Send s && cancelledWaiting.contains(s.turnId()))) {
                refuse(c, error);
            }
        });
        stash.clear();
        cancelledWaiting.clear();
    }

    /** Answers a request that will not be processed with {@code error}. */
    private static void refuse(Command command, MemLongException error) {
        switch (command) {
            case Send s -> s.replyTo().tell(new TurnEvent.Error(s.turnId(), error));
            case GetHistory q -> q.replyTo().tell(StatusReply.error(error));
            case GetMemory q -> q.replyTo().tell(StatusReply.error(error));
            case Forget q -> q.replyTo().tell(StatusReply.error(error));
            case SetTrainingOptOut q -> q.replyTo().tell(StatusReply.error(error));
            default -> { }
        }
    }

    private Behavior<Command> signals(BehaviorBuilder<Command> builder) {
        return builder
                .onSignal(PreRestart.class, s -> onFailure())
                .onSignal(PostStop.class, s -> onPostStop())
                .build();
    }

    /**
     * Before a restart: every waiting caller gets an error (but a turn whose commit runs: its outcome), the window is
     * dropped and the turn's staged chunks are discarded. The durable bank stays active: its RAM state is exactly
     * what storage holds, so the restarted actor picks it up again (and a device step that still reads it is not
     * disturbed).
     */
    private Behavior<Command> onFailure() {
        MemLongException error = new MemLongException(MemLongException.Kind.CONVERSATION_FAILED,
                "conversation " + key + " failed; it restarts from storage");
        ctx.getLog().warn("conversation {} failed; restarting from storage", key);
        abandon(error);
        if (stopRequested) {
            // the registry sent Stop once and buffers this conversation's messages until the actor stops: the
            // restarted actor (same mailbox) must stop too
            ctx.getSelf().tell(Stop.INSTANCE);
        }
        return Behaviors.same();
    }

    private Behavior<Command> onPostStop() {
        // a commit still running writes through the bank: it is closed after it
        CompletableFuture<?> lastWrite = committing != null ? committing.stored()
                : CompletableFuture.completedFuture(null);
        abandon(new MemLongException(MemLongException.Kind.SHUTTING_DOWN, "conversation " + key + " stopped"));
        if (bank != null) {
            StagingBank closing = bank;
            bank = null;
            lastWrite.whenComplete((result, error) -> {
                try {
                    closing.close();
                } catch (RuntimeException e) {
                    LOG.warn("conversation {}: closing its memory bank failed", key, e);
                }
            });
        }
        return Behaviors.same();
    }

    private void abandon(MemLongException error) {
        if (committing != null) {
            answerWhenCommitted(committing, current);
            committing = null;
            current = null;
        } else if (current != null) {
            services.scheduler().tell(new DeviceScheduler.Cancel(current.send().turnId()));
            current.send().replyTo().tell(new TurnEvent.Error(current.send().turnId(), error));
            current = null;
        }
        refuseStash(error);
        // the window may hold an uncommitted turn; the staging bank (and its staged chunks) is simply dropped
        services.scheduler().tell(new DeviceScheduler.Release(key, -1));
        device = -1;
    }

    /** For logs. */
    @Override
    public String toString() {
        return "ConversationActor(" + key + ")";
    }
}
