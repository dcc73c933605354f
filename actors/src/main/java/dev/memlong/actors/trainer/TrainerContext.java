package dev.memlong.actors.trainer;

import dev.memlong.actors.InFlightWork;
import dev.memlong.actors.scheduler.DeviceScheduler;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.ChatTemplate;
import dev.memlong.runtime.tokenizer.TextTokenizer;
import dev.memlong.storage.ConversationStore;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What the trainer works with, created once per runtime. Nothing here is owned by the trainer.
 *
 * @param store     the node's store: dialogue, versions, the serving version
 * @param modelId   the model's id in the store
 * @param modelDir  the base model ({@code memlong.model.dir})
 * @param memory    MemLong settings (the memory layer bounds what trains)
 * @param tokenizer the model's tokenizer
 * @param template  the model's chat template
 * @param retriever the runtime's retriever (frozen; used for retrieval in the training loop)
 * @param settings  the trainer's settings
 * @param versions  the versions directory
 * @param scheduler swaps versions into the devices
 * @param counters  the trainer's counters, read by {@link dev.memlong.actors.MemLongRuntime#trainerStats()}
 * @param observer  test seam
 * @param storeWork counts the trainer thread's life, so the runtime closes the store only once it has ended
 */
public record TrainerContext(ConversationStore store, String modelId, Path modelDir, MemorySettings memory,
                             TextTokenizer tokenizer, Optional<ChatTemplate> template, Retriever retriever,
                             TrainerSettings settings, Path versions, ActorRef<DeviceScheduler.Command> scheduler,
                             TrainerCounters counters, RoundObserver observer, InFlightWork storeWork) {

    /** A context whose trainer thread nobody waits for (tests that close the store themselves, after the actor). */
    public TrainerContext(ConversationStore store, String modelId, Path modelDir, MemorySettings memory,
                          TextTokenizer tokenizer, Optional<ChatTemplate> template, Retriever retriever,
                          TrainerSettings settings, Path versions, ActorRef<DeviceScheduler.Command> scheduler,
                          TrainerCounters counters, RoundObserver observer) {
        this(store, modelId, modelDir, memory, tokenizer, template, retriever, settings, versions, scheduler, counters,
                observer, new InFlightWork());
    }

    VersionFiles versionFiles() {
        return new VersionFiles(versions);
    }
}
