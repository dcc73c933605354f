package dev.memlong.actors.conversation;

import dev.memlong.actors.MemLongException;
import dev.memlong.actors.Reply;
import dev.memlong.actors.RetrievedChunk;
import dev.memlong.actors.conversation.ConversationActor.Send;
import dev.memlong.actors.scheduler.GenerationEvent;
import dev.memlong.storage.CommittedTurn;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.Role;
import dev.memlong.storage.TurnCommit;
import dev.memlong.storage.TurnMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits a conversation's finished turns: the turn's messages (the system prompt it sets, the user message, the
 * reply) and the chunks it moved to memory, in one storage write batch on the blocking pool; and answers the turn's
 * caller with its reply once it is stored.
 *
 * <p>It has no {@code ActorContext} or {@code StashBuffer} on purpose: its work runs on the blocking pool and in the
 * commit's callbacks, where Pekko forbids them. It uses only its own final fields; the actor hands it the rest.
 */
final class TurnCommitter {

    /** Logs under the actor's name (its log continues here), off the actor's thread. */
    private static final Logger LOG = LoggerFactory.getLogger(ConversationActor.class);

    /**
     * A turn's commit, running on the blocking pool.
     *
     * @param stagedChunks how many staged chunks it writes (the caller's reply maps their sequence numbers)
     */
    record Committing(TurnInProgress turn, CompletableFuture<CommittedTurn> stored,
                      GenerationEvent.Finished finished, int stagedChunks) {}

    private final ConversationKey key;
    private final ConversationServices services;

    TurnCommitter(ConversationKey key, ConversationServices services) {
        this.key = key;
        this.services = services;
    }

    /**
     * Starts committing {@code turn}, whose reply is {@code finished}, with the chunks {@code bank} staged during it.
     * Called on the actor's thread (the bank is read here, not on the blocking pool).
     *
     * @param staleWindow whether a window saved at passivation is stored: this commit makes it stale
     */
    Committing commit(TurnInProgress turn, GenerationEvent.Finished finished, StagingBank bank, boolean staleWindow) {
        List<TurnMessage> messages = new ArrayList<>(3);
        if (turn.newSystemPrompt() != null) {
            messages.add(new TurnMessage(Role.SYSTEM, turn.newSystemPrompt(), 0));
        }
        messages.add(new TurnMessage(Role.USER, turn.send().text(), turn.userTokens()));
        messages.add(new TurnMessage(Role.ASSISTANT, finished.text(), finished.ids().length));
        TurnCommit commit = new TurnCommit(messages, bank.staged());
        CompletableFuture<CommittedTurn> stored = CompletableFuture.supplyAsync(() -> {
            services.faults().beforeStore(key);
            CommittedTurn committed = services.store().commitTurn(key, commit);
            if (staleWindow) {
                deleteStaleWindow();
            }
            return committed;
        }, services.blocking());
        return new Committing(turn, stored, finished, commit.chunks().size());
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

    /**
     * The turn is stored: counts its new dialogue for the trainer and sends the caller its reply. {@code seqs} maps
     * the sequence numbers the turn's chunks had while staged to the stored ones.
     */
    void answerStored(Committing commit, Map<Long, Long> seqs) {
        Send send = commit.turn().send();
        services.dialogueCommitted().accept(commit.turn().userTokens() + commit.finished().ids().length);
        send.replyTo().tell(new TurnEvent.Done(send.turnId(), reply(commit.finished(), seqs)));
    }

    /**
     * The actor stops (the runtime closes) or restarts while the current turn's commit runs on the blocking pool.
     * The commit goes on (the runtime's close waits for store work before it closes the store), so its outcome, not
     * the stop, answers the caller: a {@code shutting down} error for a turn that is then stored would make a client
     * that retries store it twice. Runs where the commit completes: uses only this committer's final fields, never
     * the actor's.
     */
    void answerWhenCommitted(Committing commit) {
        Send send = commit.turn().send();
        commit.stored().whenComplete((result, error) -> {
            if (error != null) {
                LOG.error("conversation {}: turn {} cannot be committed", key, send.turnId(), error);
                send.replyTo().tell(notCommitted(send, error));
                return;
            }
            answerStored(commit, StagingBank.storedSeqs(commit.stagedChunks(), result.chunkSeqs()));
        });
    }

    /** What the caller of a turn whose commit failed receives: nothing of the turn was stored. */
    static TurnEvent.Error notCommitted(Send send, Throwable error) {
        return new TurnEvent.Error(send.turnId(), new MemLongException(MemLongException.Kind.STORAGE,
                "the turn could not be committed: " + error.getMessage(), error));
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
}
