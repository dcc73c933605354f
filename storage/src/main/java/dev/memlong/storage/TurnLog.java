package dev.memlong.storage;

import dev.memlong.storage.proto.ConversationRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/** Writes and reads the dialogue: single messages, whole turns (one batch with their chunks), history. */
final class TurnLog {

    private final StoreContext ctx;
    private final BankSource banks;

    /** Gives the bank a commit must go through, activating it if needed. */
    interface BankSource {
        /** The active bank of {@code key}, or a transient one (closeWhenDone true). */
        RocksMemoryBank bankFor(ConversationKey key, boolean[] closeWhenDone);

        /** The active, open bank of {@code key}, or null. */
        RocksMemoryBank activeBank(ConversationKey key);
    }

    TurnLog(StoreContext ctx, BankSource banks) {
        this.ctx = ctx;
        this.banks = banks;
    }

    /**
     * Commits a turn: its messages, its new chunks (with K/V and embeddings), the evictions they cause, the
     * pending retrieval counters and the conversation's counters, in ONE WriteBatch, fsynced when settings say
     * so. When this returns the turn is durable; RAM (the active bank) is updated only after that.
     */
    CommittedTurn commit(ConversationKey key, TurnCommit commit) {
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        boolean[] closeBank = {false};
        RocksMemoryBank bank = null;
        try {
            ConversationRecord.Builder meta = ConversationMeta.require(ctx.db, key).toBuilder();
            if (!commit.chunks().isEmpty()) {
                bank = banks.bankFor(key, closeBank);
            } else {
                bank = banks.activeBank(key); // so its pending retrieval counters go in this batch too
            }
            long now = ctx.now();
            byte[] prefix = StoreKeys.conversation(key);
            try (StoreBatch batch = new StoreBatch(ctx.db)) {
                List<Long> turnSeqs = putMessages(batch, prefix, meta, commit.messages(), now);
                RocksMemoryBank.Staged staged = bank == null ? null : bank.stage(batch, meta, commit.chunks(), now);
                meta.setUpdatedAtMs(now);
                ConversationMeta.put(batch, key, meta.build());
                ctx.db.write(batch, ctx.settings.fsync());
                if (staged == null) {
                    return new CommittedTurn(turnSeqs, List.of(), List.of());
                }
                bank.apply(staged);
                return new CommittedTurn(turnSeqs, staged.added(), staged.evicted());
            }
        } finally {
            if (closeBank[0] && bank != null) {
                bank.close();
            }
            lock.unlock();
        }
    }

    private static List<Long> putMessages(StoreBatch batch, byte[] prefix, ConversationRecord.Builder meta,
                                          List<TurnMessage> messages, long now) {
        List<Long> seqs = new ArrayList<>(messages.size());
        for (TurnMessage m : messages) {
            long seq = meta.getNextTurnSeq();
            meta.setNextTurnSeq(seq + 1).setTurnCount(meta.getTurnCount() + 1);
            if (m.role() == Role.SYSTEM) {
                meta.setSystemPromptTurn(seq + 1);
            }
            batch.put(ColumnFamily.TURNS, StoreKeys.item(prefix, seq), Records.turn(seq, m, now).toByteArray());
            seqs.add(seq);
        }
        return seqs;
    }

    /** Messages with {@code seq >= fromSeq}, at most {@code limit} (none for 0), chronological. */
    List<Turn> history(ConversationKey key, long fromSeq, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be >= 0, got " + limit);
        }
        ConversationMeta.require(ctx.db, key);
        if (limit == 0) {
            return List.of(); // the scan below reads one record before it can stop
        }
        byte[] prefix = StoreKeys.conversation(key);
        List<Turn> out = new ArrayList<>();
        ctx.db.scan(ColumnFamily.TURNS, StoreKeys.item(prefix, Math.max(0, fromSeq)), StoreKeys.upperBound(prefix),
                null, (k, v) -> {
                    out.add(Records.turn(RecordCodec.turn(k, v)));
                    return out.size() < limit;
                });
        return out;
    }

    /** Every chunk's metadata, chronological (no K/V). */
    List<ChunkSummary> chunks(ConversationKey key) {
        ConversationMeta.require(ctx.db, key);
        byte[] prefix = StoreKeys.conversation(key);
        List<ChunkSummary> out = new ArrayList<>();
        ctx.db.scan(ColumnFamily.CHUNKS, prefix, StoreKeys.upperBound(prefix), null, (k, v) -> {
            out.add(Records.summary(RecordCodec.chunk(k, v)));
            return true;
        });
        return out;
    }
}
