package dev.memlong.actors.conversation;

import dev.memlong.actors.GenerationParams;
import dev.memlong.actors.MemLongException;
import dev.memlong.actors.conversation.TurnCommitter.Committing;
import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.actors.scheduler.GenerationEvent;
import dev.memlong.actors.scheduler.TurnRequest;
import dev.memlong.storage.ChunkSummary;
import dev.memlong.storage.CommittedTurn;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.Turn;
import dev.memlong.storage.SavedWindow;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * <p>States: {@link #loading()}, {@link #idle()}, {@link #generating()}, {@link #committing()}, {@link #busy()},
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

    private record Loaded(StoredConversation stored) implements Command {}

    private record LoadFailed(Throwable error) implements Command {}

    private record Event(GenerationEvent event) implements Command {}

    private record CommitDone(CommittedTurn result, Throwable error) implements Command {}

    private record WindowToSave(SavedWindow window) implements Command {}

    private record Answered(Runnable reply, boolean reload) implements Command {}

    private enum Closed implements Command { INSTANCE }

    private enum IdleTimeout implements Command { INSTANCE }

    /** For what happens off the actor's thread (where its context's logger must not be used). */
    private static final Logger LOG = LoggerFactory.getLogger(ConversationActor.class);

    /** How long passivation waits for the device to copy the window out (it answers between two steps). */
    private static final Duration WINDOW_SAVE_TIMEOUT = Duration.ofSeconds(30);

    private final ActorContext<Command> ctx;
    private final WaitingRequests waiting;
    private final ConversationKey key;
    private final ConversationServices services;
    private final ActorRef<ConversationRegistry.Command> registry;
    private final DialoguePrompt prompt;
    private final ActorRef<GenerationEvent> events;
    private final DialogueContext dialogue;
    private final TurnCommitter committer;
    private StagingBank bank;
    private int device = -1;
    private TurnInProgress current;
    /** The current turn's commit while it runs (state {@link #committing()}), else null. */
    private Committing committing;
    /** Stop arrived (stashed or handled); a restart or a failed load must not lose it, the registry waits for it. */
    private boolean stopRequested;

    public static Behavior<Command> create(ConversationKey key, ConversationServices services,
                                           ActorRef<ConversationRegistry.Command> registry) {
        return Behaviors.<Command>supervise(Behaviors.setup(ctx -> Behaviors.withStash(
                        WaitingRequests.stashCapacity(services.maxPendingTurns()),
                        stash -> new ConversationActor(ctx, stash, key, services, registry).start())))
                .onFailure(Exception.class, SupervisorStrategy.restart());
    }

    private ConversationActor(ActorContext<Command> ctx, StashBuffer<Command> stash, ConversationKey key,
                              ConversationServices services, ActorRef<ConversationRegistry.Command> registry) {
        this.ctx = ctx;
        this.waiting = new WaitingRequests(stash, key, services.maxPendingTurns());
        this.key = key;
        this.services = services;
        this.registry = registry;
        this.prompt = services.prompt();
        this.events = ctx.messageAdapter(GenerationEvent.class, Event::new);
        this.dialogue = new DialogueContext(services.recentMessages());
        this.committer = new TurnCommitter(key, services);
    }

    private Behavior<Command> start() {
        ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> new Loaded(StoredConversation.read(key, services)),
                services.blocking()), (loaded, error) -> error == null ? loaded : new LoadFailed(error));
        return loading();
    }

    private Behavior<Command> loading() {
        return signals(Behaviors.receive(Command.class)
                .onMessage(Loaded.class, this::onLoaded)
                .onMessage(LoadFailed.class, this::onLoadFailed)
                .onMessage(Event.class, e -> Behaviors.same())
                .onMessage(Command.class, this::stashOrRefuse));
    }

    private Behavior<Command> onLoaded(Loaded loaded) {
        StoredConversation stored = loaded.stored();
        bank = stored.bank();
        dialogue.restore(stored.recent(), stored.systemPrompt(), stored.saved());
        return waiting.unstashAll(idle());
    }

    private Behavior<Command> onLoadFailed(LoadFailed failed) {
        ctx.getLog().error("conversation {} cannot be loaded", key, failed.error());
        MemLongException error = new MemLongException(MemLongException.Kind.STORAGE,
                "conversation " + key + " cannot be loaded: " + failed.error().getMessage(), failed.error());
        waiting.refuseAll(error);
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
                    WaitingRequests.refuse(c, error);
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
        if (waiting.skipCancelled(send)) {
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
        current = new TurnInProgress(send, tokens.userTokens(), newSystem);
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
            waiting.cancel(cancel.turnId());
        }
        return Behaviors.same();
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
                yield waiting.unstashAll(idle());
            }
        };
    }

    private Behavior<Command> onFinished(GenerationEvent.Finished finished) {
        services.faults().beforeCommit(key, current.send().text());
        committing = committer.commit(current, finished, bank, dialogue.savedWindow() != null);
        ctx.pipeToSelf(committing.stored(), CommitDone::new);
        return committing();
    }

    private Behavior<Command> committing() {
        return signals(Behaviors.receive(Command.class)
                .onMessage(CommitDone.class, this::onCommitted)
                .onMessage(Event.class, e -> Behaviors.same())
                // CancelTurn of the current turn is ignored there: its reply is complete and being committed (too
                // late); a waiting turn is still cancelled
                .onMessage(Command.class, this::stashOrRefuse));
    }

    private Behavior<Command> onCommitted(CommitDone done) {
        Committing commit = committing;
        Send send = commit.turn().send();
        current = null;
        committing = null;
        if (done.error() != null) {
            ctx.getLog().error("conversation {}: turn {} cannot be committed", key, send.turnId(), done.error());
            bank.discard();
            services.scheduler().tell(new DeviceScheduler.Release(key, device)); // the window holds the lost turn
            device = -1;
            send.replyTo().tell(TurnCommitter.notCommitted(send, done.error()));
            return waiting.unstashAll(idle());
        }
        Map<Long, Long> seqs = bank.committed(done.result().chunkSeqs());
        dialogue.committed(commit.turn().newSystemPrompt(), send.text(), commit.finished().text());
        committer.answerStored(commit, seqs);
        return waiting.unstashAll(idle());
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
        return answered.reload() ? start() : waiting.unstashAll(idle());
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
                replyTo -> new DeviceScheduler.SaveAndRelease(key, device, services.modelTag(), replyTo),
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
                waiting.keepStop(stop);
            }
            case CancelTurn cancel -> waiting.cancel(cancel.turnId());
            case IdleTimeout timeout -> { } // stale: not idle now, and idle() arms the timeout again
            default -> waiting.waitOrRefuse(command);
        }
        return Behaviors.same();
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
            committer.answerWhenCommitted(committing);
            committing = null;
            current = null;
        } else if (current != null) {
            services.scheduler().tell(new DeviceScheduler.Cancel(current.send().turnId()));
            current.send().replyTo().tell(new TurnEvent.Error(current.send().turnId(), error));
            current = null;
        }
        waiting.refuseAll(error);
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
