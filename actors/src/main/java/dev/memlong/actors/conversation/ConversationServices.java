package dev.memlong.actors.conversation;

import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.storage.ConversationSpec;
import dev.memlong.storage.ConversationStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.LongConsumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What every conversation actor of a runtime shares, created once: the store, the scheduler, the tokenizer and
 * chat template, and the settings that shape a turn.
 *
 * @param store           the node's store (blocking: called on {@code blocking} only)
 * @param spec            what conversations are created with (model id, K/V layout)
 * @param scheduler       the device scheduler
 * @param tokenizer       the model's tokenizer
 * @param template        the model's chat template, if it has one
 * @param stopTokenIds    the model's end-of-turn ids
 * @param restoreTokens   tokens of recent dialogue re-read when a window is rebuilt
 * @param recentMessages  messages kept in RAM for restoring
 * @param idleTimeout     passivation timeout
 * @param maxPendingTurns messages waiting while a turn runs
 * @param blocking        executor of the blocking dispatcher
 * @param faults          test seam
 * @param dialogueCommitted told the tokens of new dialogue (user message and reply) of every committed turn (the
 *                        trainer counts them toward its next round)
 */
public record ConversationServices(ConversationStore store, ConversationSpec spec,
                                   ActorRef<DeviceScheduler.Command> scheduler, TextTokenizer tokenizer,
                                   Optional<ChatTemplate> template, List<Integer> stopTokenIds, int restoreTokens,
                                   int recentMessages, Duration idleTimeout, int maxPendingTurns, Executor blocking,
                                   FaultInjector faults, LongConsumer dialogueCommitted) {

    DialoguePrompt prompt() {
        return new DialoguePrompt(tokenizer, template, restoreTokens);
    }

    /** The model a saved window's cache rows belong to. */
    String modelTag() {
        return spec.modelId();
    }
}
