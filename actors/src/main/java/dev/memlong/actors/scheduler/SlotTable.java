package dev.memlong.actors.scheduler;

import dev.memlong.memory.MemoryBank;
import dev.memlong.runtime.memlong.MemLongEngine;
import dev.memlong.runtime.memlong.MemLongSequence;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.SavedWindow;
import java.util.HashMap;
import java.util.Map;

/**
 * The cache slots of one device and the conversations whose windows live in them. A conversation keeps its slot
 * between turns (so the next turn only feeds its new tokens) until it is released or the slot is needed by
 * another conversation and it is the least recently used idle one.
 */
final class SlotTable {

    /** A conversation's window on this device. */
    static final class Resident {
        final ConversationKey key;
        final MemoryBank bank;
        final MemLongSequence sequence;
        /** The model version that built the window. */
        final long version;
        /** Whether every step that wrote to the window ran on {@link #version} (a swap mid-turn makes it mixed). */
        boolean pure = true;
        long lastUsed;
        /** The last sampled token when a reply ended without feeding it (length or stop-string end), else -1. */
        int unfedToken = -1;
        RunningTurn current;

        Resident(ConversationKey key, MemoryBank bank, MemLongSequence sequence, long version) {
            this.key = key;
            this.bank = bank;
            this.sequence = sequence;
            this.version = version;
        }

        int slot() {
            return sequence.slot();
        }

        /** Records that a step on model {@code stepVersion} wrote to the window. */
        void wroteWith(long stepVersion) {
            if (stepVersion != version) {
                pure = false;
            }
        }

        /**
         * Whether the window's upper-layer K/V all come from {@code current}: if not, it must be rebuilt before the
         * next turn reads it, or that turn would attend to another version's K/V.
         */
        boolean builtBy(long current) {
            return pure && version == current;
        }
    }

    private final MemLongEngine engine;
    private final KvCachePool cache;
    private final SchedulerGauges gauges;
    private final Resident[] slots;
    private final Map<ConversationKey, Resident> byKey = new HashMap<>();
    private long clock;

    SlotTable(MemLongEngine engine, KvCachePool cache, SchedulerGauges gauges) {
        this.engine = engine;
        this.cache = cache;
        this.gauges = gauges;
        this.slots = new Resident[cache.slots()];
    }

    /** The conversation's window here if it was built with this very bank, else null (a stale one is dropped). */
    Resident find(ConversationKey key, MemoryBank bank) {
        Resident r = byKey.get(key);
        if (r != null && r.bank != bank) {
            release(key);
            return null;
        }
        return r;
    }

    /** The window a turn runs in, and the tokens it feeds. */
    record Entry(Resident resident, int[] prompt) {}

    /**
     * The window {@code request} runs in on a device serving model {@code version}, and what it feeds. The
     * conversation's window here, if this very bank and version built all of it: the turn's resume tokens. Else a
     * fresh window: the request's saved window put back, if this version computed it (resume tokens again), or
     * rebuilt from the turn's fresh tokens.
     */
    Entry enter(TurnRequest request, long version) {
        Resident resident = find(request.key(), request.bank());
        if (resident != null && resident.builtBy(version)) {
            return new Entry(resident, resumeAfter(resident, request));
        }
        resident = claim(request.key(), request.bank(), version); // (drops a window another version wrote)
        boolean restored = request.saved() != null && restore(resident, request.saved());
        return new Entry(resident, restored ? resumeAfter(resident, request) : request.freshTokens());
    }

    /** The turn's tokens after the window it continues, led by the last reply's unfed token if there is one. */
    private static int[] resumeAfter(Resident resident, TurnRequest request) {
        int unfed = resident.unfedToken;
        resident.unfedToken = -1;
        if (unfed < 0) {
            return request.resumeTokens();
        }
        int[] prompt = new int[request.resumeTokens().length + 1];
        prompt[0] = unfed;
        System.arraycopy(request.resumeTokens(), 0, prompt, 1, request.resumeTokens().length);
        return prompt;
    }

    /**
     * A fresh window for the conversation, built by model {@code version}: the lowest free slot, else the least
     * recently used idle one's.
     *
     * @throws IllegalStateException if every slot runs a turn (the caller admits at most slots turns)
     */
    Resident claim(ConversationKey key, MemoryBank bank, long version) {
        release(key);
        int slot = -1;
        for (int i = 0; i < slots.length && slot < 0; i++) {
            if (slots[i] == null) {
                slot = i;
            }
        }
        if (slot < 0) {
            Resident lru = null;
            for (Resident r : slots) {
                if (r.current == null && (lru == null || r.lastUsed < lru.lastUsed)) {
                    lru = r;
                }
            }
            if (lru == null) {
                throw new IllegalStateException("every cache slot runs a turn");
            }
            slot = lru.slot();
            release(lru.key);
        }
        Resident r = new Resident(key, bank, engine.newSequence(cache, slot, bank), version);
        r.sequence.onRetrieval(retrieval -> {
            gauges.retrieved(retrieval.timings().totalNanos());
            if (r.current != null) {
                r.current.retrieved(retrieval);
            }
        });
        slots[slot] = r;
        byKey.put(key, r);
        return r;
    }

    /**
     * Puts a saved window back into a freshly claimed resident. Returns false (leaving the resident empty, to be
     * rebuilt) when the window was computed by another model version than the one the resident is built by (its
     * cache rows above the memory layer would be another version's), or does not fit this device's cache.
     */
    boolean restore(Resident r, SavedWindow saved) {
        if (saved.modelVersion() != r.version) {
            return false;
        }
        try {
            r.sequence.restoreWindow(saved.tokenIds(), saved.cacheRows());
        } catch (IllegalArgumentException doesNotFit) {
            return false;
        }
        r.unfedToken = saved.unfedToken();
        return true;
    }

    /**
     * The conversation's window as it is now (for passivation), stamped with the model version that computed it, or
     * null when this device holds none, a turn of it runs, or it is not wholly {@code version}'s (a swap happened
     * while it was written: the next turn would rebuild it anyway).
     */
    SavedWindow save(ConversationKey key, String modelTag, long version) {
        Resident r = byKey.get(key);
        if (r == null || r.current != null || !r.builtBy(version)) {
            return null;
        }
        return new SavedWindow(modelTag, r.version, r.sequence.windowIds(), r.unfedToken, r.sequence.windowRows());
    }

    void touch(Resident r) {
        r.lastUsed = ++clock;
    }

    /** Drops the conversation's window (its slot becomes free). */
    void release(ConversationKey key) {
        Resident r = byKey.remove(key);
        if (r != null) {
            slots[r.slot()] = null;
            r.sequence.close();
        }
    }

    int residents() {
        return byKey.size();
    }
}
