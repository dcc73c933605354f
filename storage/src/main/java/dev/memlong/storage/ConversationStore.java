package dev.memlong.storage;

import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.ServingVersionRecord;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * The node's system of record: one RocksDB holding every conversation's metadata, dialogue and long-term
 * memory (chunks with K/V and embeddings), and the trainer's model versions. Thread-safe; open one per node and
 * share it. Blocking: call it from a dedicated dispatcher, never from an event loop.
 *
 * <p>Durability: {@link #commitTurn} writes a whole turn in one WriteBatch with the WAL on and, by default, an
 * fsync; once it returns, the turn is on disk. {@link #forget} removes a conversation from every column family
 * in one batch.
 */
public final class ConversationStore implements AutoCloseable {

    private final StoreContext ctx;
    private final TurnLog turns;
    private final ConversationTransfer transfer;
    private final ModelVersionLog models;
    private final WindowLog windows;
    private final List<Consumer<ConversationKey>> exclusionListeners = new CopyOnWriteArrayList<>();
    private final ForgottenBytesEraser eraser;

    private ConversationStore(StoreContext ctx) {
        this.ctx = ctx;
        this.turns = new TurnLog(ctx, new TurnLog.BankSource() {
            @Override
            public RocksMemoryBank bankFor(ConversationKey key, boolean[] closeWhenDone) {
                return ConversationStore.this.bankFor(key, closeWhenDone);
            }

            @Override
            public RocksMemoryBank activeBank(ConversationKey key) {
                RocksMemoryBank active = ctx.activeBank(key);
                return active != null && active.isOpen() ? active : null;
            }
        });
        this.transfer = new ConversationTransfer(ctx);
        this.models = new ModelVersionLog(ctx);
        this.windows = new WindowLog(ctx);
        this.eraser = new ForgottenBytesEraser(ctx.db);
    }

    /**
     * Waits until the background erase of forgotten conversations' bytes asked for so far has run (see
     * {@link #forget}); false on timeout.
     */
    public boolean awaitForgottenBytesErased(java.time.Duration timeout) {
        return eraser.awaitIdle(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * Opens (creating if missing) the store at {@code settings.path()}.
     *
     * @throws StorageException of kind STARTUP when the directory cannot be created, is read-only, the disk is
     *                          full, or another process holds the store
     */
    public static ConversationStore open(StorageSettings settings) {
        return new ConversationStore(new StoreContext(RocksStore.open(settings), settings));
    }

    /** For tests in this package: a store whose timestamps come from {@code clockMs}. */
    static ConversationStore open(StorageSettings settings, java.util.function.LongSupplier clockMs) {
        return new ConversationStore(new StoreContext(RocksStore.open(settings), settings, clockMs));
    }

    public StorageSettings settings() {
        return ctx.settings;
    }

    /**
     * Creates the conversation if it does not exist; otherwise checks it was written for the same model and
     * memory-layer layout.
     *
     * @throws StorageException LAYOUT_MISMATCH or MODEL_MISMATCH
     */
    public ConversationInfo openConversation(ConversationKey key, ConversationSpec spec) {
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try {
            ConversationRecord stored = ConversationMeta.find(ctx.db, key);
            if (stored != null) {
                ConversationMeta.check(key, stored, spec);
                return Records.info(stored);
            }
            ConversationRecord created = ConversationMeta.create(key, spec, ctx.now());
            try (StoreBatch batch = new StoreBatch(ctx.db)) {
                // an import that crashed or failed may have left turns and chunks under this key (its clean-up is
                // best effort); in the same batch as the record, so they can never become this conversation's
                ConversationMeta.deleteData(batch, key);
                ConversationMeta.put(batch, key, created);
                ctx.db.write(batch, ctx.settings.fsync());
            }
            return Records.info(created);
        } finally {
            lock.unlock();
        }
    }

    /** The conversation's metadata, if it exists. */
    public Optional<ConversationInfo> conversation(ConversationKey key) {
        return Optional.ofNullable(ConversationMeta.find(ctx.db, key)).map(Records::info);
    }

    /** Every conversation of {@code tenant}. */
    public List<ConversationInfo> conversations(String tenant) {
        byte[] prefix = StoreKeys.tenant(tenant);
        List<ConversationInfo> out = new ArrayList<>();
        ctx.db.scan(ColumnFamily.CONVERSATIONS, prefix, StoreKeys.upperBound(prefix), null, (k, v) -> {
            out.add(Records.info(RecordCodec.conversation(k, v)));
            return true;
        });
        return out;
    }

    /** Every conversation of every tenant, in key order (tenant, then id). */
    public List<ConversationInfo> allConversations() {
        List<ConversationInfo> out = new ArrayList<>();
        ctx.db.scan(ColumnFamily.CONVERSATIONS, new byte[0], new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF},
                null, (k, v) -> {
                    out.add(Records.info(RecordCodec.conversation(k, v)));
                    return true;
                });
        return out;
    }

    /**
     * Activates the conversation's memory bank: loads its embeddings into RAM for exact search. Returns the
     * already active bank if there is one. Closing the bank deactivates it.
     */
    public RocksMemoryBank activate(ConversationKey key) {
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try {
            RocksMemoryBank active = ctx.activeBank(key);
            if (active != null && active.isOpen()) {
                return active;
            }
            RocksMemoryBank bank = new RocksMemoryBank(ctx, key, ConversationMeta.require(ctx.db, key));
            ctx.register(bank);
            return bank;
        } finally {
            lock.unlock();
        }
    }

    private RocksMemoryBank bankFor(ConversationKey key, boolean[] closeWhenDone) {
        RocksMemoryBank active = ctx.activeBank(key);
        if (active != null && active.isOpen()) {
            return active;
        }
        closeWhenDone[0] = true;
        return new RocksMemoryBank(ctx, key, ConversationMeta.require(ctx.db, key));
    }

    /** Appends one message (e.g. a system message) durably; returns its sequence number. */
    public long appendTurn(ConversationKey key, TurnMessage message) {
        return turns.commit(key, new TurnCommit(List.of(message), List.of())).turnSeqs().get(0);
    }

    /**
     * Commits a turn atomically: messages, new chunks with K/V and embeddings, evictions, pending retrieval
     * counters and conversation counters in ONE WriteBatch (fsync per settings). Goes through the active bank
     * if there is one (and updates it); otherwise through a transient one.
     */
    public CommittedTurn commitTurn(ConversationKey key, TurnCommit commit) {
        return turns.commit(key, commit);
    }

    /** The whole dialogue, chronological. */
    public List<Turn> history(ConversationKey key) {
        return turns.history(key, 0, Integer.MAX_VALUE);
    }

    /**
     * Messages from {@code fromSeq} on, at most {@code limit} (none for 0).
     *
     * @throws IllegalArgumentException if {@code limit} is negative
     */
    public List<Turn> history(ConversationKey key, long fromSeq, int limit) {
        return turns.history(key, fromSeq, limit);
    }

    /**
     * The conversation's system prompt: the text of its latest system message, if it has one (without reading
     * the rest of the dialogue).
     */
    public Optional<String> systemPrompt(ConversationKey key) {
        ConversationRecord meta = ConversationMeta.require(ctx.db, key);
        long turn = meta.getSystemPromptTurn();
        if (turn == 0) {
            return Optional.empty();
        }
        List<Turn> found = turns.history(key, turn - 1, 1);
        return found.isEmpty() || found.get(0).seq() != turn - 1 || found.get(0).role() != Role.SYSTEM
                ? Optional.empty() : Optional.of(found.get(0).text());
    }

    /**
     * Saves the conversation's local window (at passivation), stamped with its current turn and chunk counters:
     * the next committed turn makes it stale. Replaces any window saved before.
     */
    public void saveWindow(ConversationKey key, SavedWindow window) {
        windows.save(key, window);
    }

    /**
     * The window saved for the conversation, if nothing was written to the conversation since and it was computed
     * by the model {@code modelTag} names. Its {@link SavedWindow#modelVersion} says which version of the model:
     * only a device serving that version may put it back.
     */
    public Optional<SavedWindow> savedWindow(ConversationKey key, String modelTag) {
        return windows.find(key, modelTag);
    }

    /** Deletes the conversation's saved window, if any (it was used, or is stale). */
    public void deleteWindow(ConversationKey key) {
        windows.delete(key);
    }

    /** The memory chunks (metadata and text, no K/V), chronological. */
    public List<ChunkSummary> chunks(ConversationKey key) {
        return turns.chunks(key);
    }

    /**
     * Marks the conversation as (not) usable for fine-tuning. Opting out notifies the
     * {@linkplain #addTrainingExclusionListener training exclusion listeners} once it is stored.
     */
    public void setTrainingOptOut(ConversationKey key, boolean optOut) {
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            ConversationRecord r = ConversationMeta.require(ctx.db, key);
            ConversationMeta.put(batch, key, r.toBuilder().setTrainingOptOut(optOut).setUpdatedAtMs(ctx.now()).build());
            ctx.db.write(batch, ctx.settings.fsync());
        } finally {
            lock.unlock();
        }
        if (optOut) {
            excluded(key);
        }
    }

    /**
     * Advances the trainer's cursor ({@link ConversationInfo#trainedToSeq}) of each range's conversation to its
     * {@code toSeq}, in one batch. A conversation that no longer exists, or exists as another incarnation (forgotten
     * and created again: told apart by {@link TrainedRange#conversationIncarnation}, or by creation time for a range
     * that does not carry one), is left alone; the cursor never moves back.
     */
    public void markTrained(List<TrainedRange> ranges) {
        List<ReentrantLock> locks = ctx.locks(ranges.stream().map(TrainedRange::key).toList());
        locks.forEach(ReentrantLock::lock);
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            for (TrainedRange range : ranges) {
                ConversationRecord r = ConversationMeta.find(ctx.db, range.key());
                if (r == null || !range.sameIncarnation(r.getIncarnation(), r.getCreatedAtMs())
                        || r.getTrainedToSeq() >= range.toSeq()) {
                    continue;
                }
                ConversationMeta.put(batch, range.key(), r.toBuilder().setTrainedToSeq(range.toSeq()).build());
            }
            ctx.db.write(batch, ctx.settings.fsync());
        } finally {
            locks.reversed().forEach(ReentrantLock::unlock);
        }
    }

    /**
     * Registers a listener told (on the thread that made the change, after it is stored) whenever a conversation
     * must no longer be trained on: it was forgotten, or opted out of training. A training round in progress uses
     * it to drop the conversation's data. Close the registration to remove the listener.
     */
    public Registration addTrainingExclusionListener(Consumer<ConversationKey> listener) {
        exclusionListeners.add(listener);
        return () -> exclusionListeners.remove(listener);
    }

    /** Removes a listener when closed. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    private void excluded(ConversationKey key) {
        for (Consumer<ConversationKey> listener : exclusionListeners) {
            listener.accept(key);
        }
    }

    /**
     * Forgets the conversation: deletes every record of it in every column family in one fsynced batch, drops its
     * active bank and cached K/V, and compacts its key ranges out of the SST files before returning. Its K/V can
     * still sit in the blob files of {@code chunk_kv} and {@code windows}, shared with other conversations, and in
     * the write-ahead log: a background pass ({@link ForgottenBytesEraser}) rewrites those blob files and flushes
     * every memtable so the log files that held its writes are deleted; {@link #awaitForgottenBytesErased} waits
     * for it. That pass reads and writes all stored K/V, so forgets arriving while one is pending share it; one not
     * yet started when the store closes is dropped, and the next forget's pass erases what it would have. Not
     * erased: copies outside the store (checkpoints, exports, backups), values a concurrent export's snapshot still
     * pins, and the freed disk blocks themselves (deleting a file does not overwrite it; that needs an encrypted
     * disk).
     *
     * @return whether it existed
     */
    public boolean forget(ConversationKey key) {
        byte[] prefix = StoreKeys.conversation(key);
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        boolean existed;
        try {
            // the raw value, not the decoded record: a conversation whose record is corrupt can still be forgotten
            existed = ctx.db.get(ColumnFamily.CONVERSATIONS, prefix) != null;
            try (StoreBatch batch = new StoreBatch(ctx.db)) {
                for (ColumnFamily cf : ColumnFamily.CONVERSATION_DATA) {
                    batch.deletePrefix(cf, prefix);
                }
                ctx.db.write(batch, true);
            }
            RocksMemoryBank bank = ctx.activeBank(key);
            if (bank != null) {
                bank.detach();
            }
            ctx.cache.invalidatePrefix(prefix);
            for (ColumnFamily cf : ColumnFamily.CONVERSATION_DATA) {
                ctx.db.compactRange(cf, prefix, StoreKeys.upperBound(prefix));
            }
        } finally {
            lock.unlock();
        }
        // the compactions above leave the K/V in blob files other conversations still reference, and the WAL keeps
        // every write until all column families have flushed past it: erased in the background (it rewrites every
        // conversation's K/V, so forgets share one pass)
        eraser.request();
        excluded(key);
        return existed;
    }

    /** Checks that no chunk of the conversation is half-written and its counters match the data. */
    public IntegrityReport checkIntegrity(ConversationKey key) {
        return IntegrityCheck.run(ctx, key);
    }

    /** Writes the conversation to {@code out} as length-delimited Protobuf records; returns the record count. */
    public long exportConversation(ConversationKey key, OutputStream out) {
        return transfer.export(key, out);
    }

    /**
     * Imports a stream written by {@link #exportConversation} as {@code as} (null: the key in the stream).
     *
     * @throws StorageException ALREADY_EXISTS, BAD_EXPORT, or a bad-data kind naming the record
     */
    public ConversationInfo importConversation(InputStream in, ConversationKey as) {
        return transfer.importFrom(in, streamKey -> as != null ? as : streamKey);
    }

    /**
     * Imports a stream written by {@link #exportConversation} as the conversation {@code target} maps the
     * stream's key to (e.g. the same id under another tenant).
     *
     * @throws StorageException ALREADY_EXISTS, BAD_EXPORT, or a bad-data kind naming the record
     */
    public ConversationInfo importConversation(InputStream in, UnaryOperator<ConversationKey> target) {
        return transfer.importFrom(in, target);
    }

    /** Writes an online, consistent copy of the whole store to {@code target} (which must not exist). */
    public void checkpoint(Path target) {
        ctx.db.checkpoint(target);
    }

    /** Records a model version (fsynced) without making it the serving one. */
    public void putModelVersion(ModelVersion version) {
        models.put(version);
    }

    /** Records a model version published by the trainer and makes it the serving version, in one fsynced batch. */
    public void publishModelVersion(ModelVersion version) {
        models.publish(version);
    }

    /**
     * Withdraws a model version the trainer published but must not keep (a conversation it was trained on was
     * forgotten or opted out while it was being published, or no device could load it): deletes its record and, if
     * it is the serving version, makes {@code serveInstead} (0: the base model, else a stored version) serving again,
     * in one fsynced batch. Atomic so that no crash leaves the store serving, or listing, a version it dropped. Only
     * the trainer writes versions, so the serving pointer read here cannot change before the batch is written.
     *
     * @throws StorageException NOT_FOUND if {@code version} or {@code serveInstead} is not stored
     * @throws IllegalArgumentException if {@code serveInstead} is {@code version}
     */
    public void withdrawModelVersion(String modelId, long version, long serveInstead) {
        if (serveInstead == version) {
            throw new IllegalArgumentException("model version " + version + " cannot serve instead of itself");
        }
        if (models.find(modelId, version).isEmpty()) {
            throw noModelVersion(modelId, version);
        }
        if (serveInstead != 0 && models.find(modelId, serveInstead).isEmpty()) {
            throw noModelVersion(modelId, serveInstead);
        }
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            batch.delete(ColumnFamily.MODEL_VERSIONS, StoreKeys.modelVersion(modelId, version));
            if (models.serving(modelId) == version) { // never leave the pointer on a version that is gone
                batch.put(ColumnFamily.MODEL_SERVING, StoreKeys.model(modelId), ServingVersionRecord.newBuilder()
                        .setSchemaVersion(RecordCodec.SCHEMA_VERSION).setModelId(modelId).setVersion(serveInstead)
                        .setUpdatedAtMs(ctx.now()).build().toByteArray());
            }
            ctx.db.write(batch, true);
        }
    }

    private static StorageException noModelVersion(String modelId, long version) {
        return new StorageException(StorageException.Kind.NOT_FOUND, null, ColumnFamily.MODEL_VERSIONS.cfName(),
                modelId + " v" + version, "no such model version", null);
    }

    /** Versions of a model, oldest first. */
    public List<ModelVersion> modelVersions(String modelId) {
        return models.list(modelId);
    }

    /** One version of a model (none for 0, the base model, or an unknown version). */
    public Optional<ModelVersion> modelVersion(String modelId, long version) {
        return models.find(modelId, version);
    }

    /** The newest version of a model, if any. */
    public Optional<ModelVersion> latestModelVersion(String modelId) {
        List<ModelVersion> all = models.list(modelId);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** The version the model serves: 0 (the base model) until one is published or rolled back to. */
    public long servingModelVersion(String modelId) {
        return models.serving(modelId);
    }

    /**
     * Makes {@code version} the serving version (a rollback, or a roll forward): 0 for the base model, else a
     * stored version (NOT_FOUND otherwise). Fsynced.
     */
    public void setServingModelVersion(String modelId, long version) {
        models.setServing(modelId, version);
    }

    /** For tests in this package: the database. */
    RocksStore rocks() {
        return ctx.db;
    }

    /** How the memory banks of this store got their chunks since it opened (cache, disk, read ahead). */
    public ChunkReads chunkReads() {
        return ctx.chunkReads();
    }

    /** The directory of the store. */
    public Path path() {
        return ctx.db.path();
    }

    /**
     * Writes pending retrieval counters of active banks, deactivates them, and closes the database (see
     * {@link RocksStore} for the order native objects are closed in). Idempotent.
     */
    @Override
    public void close() {
        eraser.close(); // an erase not yet started is dropped: the next open's first forget erases everything
        for (RocksMemoryBank bank : ctx.activeBanks()) {
            try {
                bank.close();
            } catch (RuntimeException e) {
                bank.detach();
            }
        }
        ctx.cache.clear();
        ctx.db.close();
    }
}
