package dev.memlong.actors.conversation;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryChunk;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A conversation's durable bank plus the chunks its current turn moved out of the window, not yet committed.
 * Appended chunks are searchable at once (retrieval later in the same turn sees them) but are written only by
 * the turn's commit, in the same WriteBatch as the turn's messages ({@link #staged()}, then {@link #committed}).
 * A failed or cancelled turn {@link #discard}s them, so it leaves no trace in memory.
 *
 * <p>Staged chunks carry provisional sequence numbers from {@value #STAGED_BASE} up (newer than every stored
 * chunk, so chronological order holds); the commit maps them to the stored ones. Not thread-safe: the device
 * worker uses it during a turn, the conversation actor between turns.
 */
public final class StagingBank implements MemoryBank {

    /** First provisional sequence number of a staged chunk. */
    public static final long STAGED_BASE = 1L << 62;

    private final MemoryBank durable;
    private final List<NewChunk> staged = new ArrayList<>();
    private final List<Long> stagedCounters = new ArrayList<>();

    public StagingBank(MemoryBank durable) {
        this.durable = durable;
    }

    /** The chunks to commit with the turn, in order. */
    public List<NewChunk> staged() {
        return List.copyOf(staged);
    }

    /**
     * The turn was committed: the durable bank now holds the staged chunks under {@code storedSeqs}.
     *
     * @return provisional sequence number to stored one
     */
    public Map<Long, Long> committed(List<Long> storedSeqs) {
        Map<Long, Long> mapping = storedSeqs(staged.size(), storedSeqs);
        discard();
        return mapping;
    }

    /**
     * Provisional sequence number to stored one, for a commit of {@code stagedChunks} staged chunks stored under
     * {@code storedSeqs} (without the bank: it may be closed by the time a commit completes).
     */
    static Map<Long, Long> storedSeqs(int stagedChunks, List<Long> storedSeqs) {
        Map<Long, Long> mapping = new HashMap<>();
        for (int i = 0; i < Math.min(storedSeqs.size(), stagedChunks); i++) {
            mapping.put(STAGED_BASE + i, storedSeqs.get(i));
        }
        return mapping;
    }

    /** Drops the staged chunks (the turn failed or was cancelled). */
    public void discard() {
        staged.clear();
        stagedCounters.clear();
    }

    @Override
    public KvLayout layout() {
        return durable.layout();
    }

    @Override
    public long append(NewChunk chunk) {
        layout().requireMatches(chunk);
        staged.add(new NewChunk(chunk.tokenIds().clone(), chunk.text(), chunk.embedding().clone(),
                chunk.keys().clone(), chunk.values().clone()));
        stagedCounters.add(0L);
        return STAGED_BASE + staged.size() - 1;
    }

    @Override
    public List<ScoredChunk> topK(float[] query, int k) {
        layout().requireQuery(query);
        List<ScoredChunk> hits = new ArrayList<>(durable.topK(query, k));
        for (int i = 0; i < staged.size(); i++) {
            float[] e = staged.get(i).embedding();
            float score = 0;
            for (int j = 0; j < e.length; j++) {
                score += e[j] * query[j];
            }
            hits.add(new ScoredChunk(STAGED_BASE + i, score));
        }
        hits.sort(Comparator.comparingDouble((ScoredChunk h) -> -h.score())
                .thenComparing(Comparator.comparingLong(ScoredChunk::seq).reversed()));
        return List.copyOf(hits.subList(0, Math.min(k, hits.size())));
    }

    @Override
    public List<MemoryChunk> fetch(Collection<Long> seqs) {
        List<Long> stored = new ArrayList<>();
        List<Integer> mine = new ArrayList<>();
        for (long seq : seqs) {
            if (seq >= STAGED_BASE) {
                int i = (int) (seq - STAGED_BASE);
                if (i < staged.size() && !mine.contains(i)) {
                    mine.add(i);
                }
            } else {
                stored.add(seq);
            }
        }
        List<MemoryChunk> out = new ArrayList<>(durable.fetch(stored));
        mine.sort(null);
        for (int i : mine) {
            NewChunk c = staged.get(i);
            out.add(new MemoryChunk(STAGED_BASE + i, c.tokenIds(), c.text(), c.embedding(), c.keys(), c.values(),
                    stagedCounters.get(i)));
        }
        return out;
    }

    /**
     * Reads ahead in the durable bank only: staged chunks are in RAM already. Touches nothing of this bank's own
     * state, so it is safe from another thread while the device worker uses the bank, as far as the durable bank's
     * {@code readAhead} is (the RocksDB bank's is).
     */
    @Override
    public int readAhead(float[] query, int k, int nextChunks) {
        return durable.readAhead(query, k, nextChunks);
    }

    @Override
    public void recordRetrieval(Collection<Long> seqs) {
        List<Long> stored = new ArrayList<>();
        for (long seq : seqs) {
            if (seq >= STAGED_BASE) {
                int i = (int) (seq - STAGED_BASE);
                if (i < staged.size()) {
                    stagedCounters.set(i, stagedCounters.get(i) + 1);
                }
            } else {
                stored.add(seq);
            }
        }
        durable.recordRetrieval(stored);
    }

    @Override
    public List<Long> seqs() {
        List<Long> all = new ArrayList<>(durable.seqs());
        for (int i = 0; i < staged.size(); i++) {
            all.add(STAGED_BASE + i);
        }
        return all;
    }

    /**
     * After the newest stored chunk comes the first staged one (the window overflowed into staging during this turn),
     * whose provisional number is not {@code seq + 1}: without this a hit on the newest stored chunk was read without
     * its continuation until the turn committed.
     */
    @Override
    public long successor(long seq) {
        if (seq < STAGED_BASE && !staged.isEmpty()) { // only while this turn staged chunks: seqs() copies the index
            List<Long> stored = durable.seqs();
            if (!stored.isEmpty() && stored.get(stored.size() - 1) == seq) {
                return STAGED_BASE;
            }
        }
        return seq + 1;
    }

    @Override
    public int chunkCount() {
        return durable.chunkCount() + staged.size();
    }

    @Override
    public long tokenCount() {
        return durable.tokenCount() + staged.stream().mapToLong(NewChunk::tokens).sum();
    }

    @Override
    public long capacityTokens() {
        return durable.capacityTokens();
    }

    @Override
    public EvictionPolicy evictionPolicy() {
        return durable.evictionPolicy();
    }

    @Override
    public void clear() {
        discard();
        durable.clear();
    }

    /** Closes the durable bank (which deactivates a stored conversation); staged chunks are dropped. */
    @Override
    public void close() {
        discard();
        durable.close();
    }
}
