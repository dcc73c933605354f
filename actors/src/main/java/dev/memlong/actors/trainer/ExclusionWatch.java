package dev.memlong.actors.trainer;

import dev.memlong.storage.ConversationInfo;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.TrainedRange;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The conversations forgotten or opted out of training while a round runs, as the store reports them (its
 * exclusion listener fires once the change is stored). The round checks it before every step and before it
 * publishes, and starts over without them.
 */
final class ExclusionWatch implements AutoCloseable {

    private final Set<ConversationKey> excluded = ConcurrentHashMap.newKeySet();
    private final ConversationStore.Registration registration;

    ExclusionWatch(ConversationStore store) {
        this.registration = store.addTrainingExclusionListener(excluded::add);
    }

    /** Every conversation excluded since the watch began. */
    Set<ConversationKey> all() {
        return Set.copyOf(excluded);
    }

    /** Throws {@link ConversationsExcluded} if any of {@code used} was excluded since the watch began. */
    void check(Collection<ConversationKey> used) {
        Set<ConversationKey> hit = new TreeSet<>(java.util.Comparator.comparing(ConversationKey::toString));
        for (ConversationKey key : used) {
            if (excluded.contains(key)) {
                hit.add(key);
            }
        }
        if (!hit.isEmpty()) {
            throw new ConversationsExcluded(Set.copyOf(hit));
        }
    }

    /**
     * Throws {@link ConversationsExcluded} if a conversation a round read ({@code ranges}) is no longer trainable in
     * the store: forgotten (or forgotten and created again), or opted out. The listener alone can come late: the
     * store tells it after the change is written (after a forget's compaction, even), so a change written just
     * before a publication can reach the listener only after the round's last {@link #check}. Reading the store
     * after publishing sees every change written before it.
     */
    void checkStored(ConversationStore store, Collection<TrainedRange> ranges) {
        Set<ConversationKey> hit = new TreeSet<>(java.util.Comparator.comparing(ConversationKey::toString));
        for (TrainedRange range : ranges) {
            Optional<ConversationInfo> info = store.conversation(range.key());
            // the incarnation, not the creation time: a conversation forgotten and created again within the same
            // millisecond is another conversation
            if (info.isEmpty() || !range.sameIncarnation(info.get().incarnation(), info.get().createdAtMs())
                    || info.get().trainingOptOut()) {
                hit.add(range.key());
            }
        }
        if (!hit.isEmpty()) {
            excluded.addAll(hit); // later attempts leave them out too
            throw new ConversationsExcluded(Set.copyOf(hit));
        }
    }

    @Override
    public void close() {
        registration.close();
    }

    /** Conversations of a round that must not be trained on any more: the round starts over without them. */
    static final class ConversationsExcluded extends RuntimeException {
        final Set<ConversationKey> keys;

        ConversationsExcluded(Set<ConversationKey> keys) {
            super("excluded from training during the round: " + keys, null, false, false);
            this.keys = keys;
        }
    }
}
