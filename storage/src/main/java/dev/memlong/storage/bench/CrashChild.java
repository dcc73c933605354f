package dev.memlong.storage.bench;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import dev.memlong.memory.ScoredChunk;
import dev.memlong.storage.CommittedTurn;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationSpec;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.RocksMemoryBank;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.TurnCommit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The child process of the crash test: commits turns with memory chunks in a loop (fsync on), retrieving and
 * counting between turns, and prints {@code ACK run n userSeq replySeq} after each commit returns. It is
 * killed with SIGKILL at a random moment; it never exits by itself.
 *
 * <p>Arguments: store directory, run id.
 */
public final class CrashChild {

    /** The conversation the crash loop writes. */
    static final ConversationKey KEY = new ConversationKey("crash", "loop");
    /** Small K/V so each commit is quick and many commits happen before the kill. */
    static final KvLayout LAYOUT = new KvLayout(2, 16, KvDType.FP16, 32);
    static final int CHUNK_TOKENS = 16;
    /** Small capacity so evictions happen during the loop too. */
    static final long CAPACITY_TOKENS = 64 * CHUNK_TOKENS;

    private CrashChild() {}

    static String userText(String run, long n) {
        return "user " + run + " " + n;
    }

    static String replyText(String run, long n) {
        return "reply " + run + " " + n;
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String run = args[1];
        SyntheticChunks chunks = new SyntheticChunks(LAYOUT, CHUNK_TOKENS);
        StorageSettings settings = StorageSettings.defaults().withPath(dir).withFsync(true)
                .withKvCacheBytes(1 << 20);
        ConversationStore store = ConversationStore.open(settings);
        store.openConversation(KEY, new ConversationSpec("crash-model", LAYOUT, CAPACITY_TOKENS,
                EvictionPolicy.FREQUENCY));
        RocksMemoryBank bank = store.activate(KEY);
        SplittableRandom random = new SplittableRandom(run.hashCode());
        for (long n = 0; ; n++) {
            List<ScoredChunk> hits = bank.topK(SyntheticChunks.embedding(random, LAYOUT.embeddingDim()), 4);
            bank.recordRetrieval(hits.stream().map(ScoredChunk::seq).toList());
            List<NewChunk> turnChunks = new ArrayList<>();
            for (int j = 0, count = 1 + random.nextInt(2); j < count; j++) {
                turnChunks.add(chunks.chunk("chunk " + run + " " + n + " " + j));
            }
            CommittedTurn done = store.commitTurn(KEY, TurnCommit.of(userText(run, n), 3, replyText(run, n), 5,
                    turnChunks));
            System.out.println("ACK " + run + " " + n + " " + done.turnSeqs().get(0) + " " + done.turnSeqs().get(1));
            System.out.flush();
        }
    }
}
