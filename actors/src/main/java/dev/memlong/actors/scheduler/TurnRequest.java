package dev.memlong.actors.scheduler;

import dev.memlong.memory.MemoryBank;
import dev.memlong.runtime.generate.SamplingParams;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.SavedWindow;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * One turn of one conversation, handed to the scheduler. The conversation lends its memory bank to the device
 * worker for the duration of the turn and does not touch it until {@link GenerationEvent.Finished} or
 * {@link GenerationEvent.Failed} arrives.
 *
 * @param id           unique across the runtime (for cancellation)
 * @param key          the conversation
 * @param bank         the conversation's memory bank (window overflow goes there, retrieval reads it)
 * @param resumeTokens the turn's tokens when the conversation's window is still on the device (they close the
 *                     previous reply and open the new turn)
 * @param freshTokens  the tokens when the window must be rebuilt: recent dialogue, then the new turn
 * @param saved        the conversation's window as saved at passivation, or null: when the device holds no window
 *                     for the conversation it puts this one back and feeds {@code resumeTokens} after it, instead
 *                     of rebuilding the window from {@code freshTokens}
 * @param params       sampling and stop conditions
 * @param replyTo      receives the turn's events
 */
public record TurnRequest(long id, ConversationKey key, MemoryBank bank, int[] resumeTokens, int[] freshTokens,
                          SavedWindow saved, SamplingParams params, ActorRef<GenerationEvent> replyTo) {

    public TurnRequest {
        if (freshTokens.length == 0) {
            throw new IllegalArgumentException("a turn needs at least one token");
        }
    }

    /** A turn without a saved window. */
    public TurnRequest(long id, ConversationKey key, MemoryBank bank, int[] resumeTokens, int[] freshTokens,
                       SamplingParams params, ActorRef<GenerationEvent> replyTo) {
        this(id, key, bank, resumeTokens, freshTokens, null, params, replyTo);
    }
}
