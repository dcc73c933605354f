package dev.memlong.storage;

import com.google.protobuf.ByteString;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.WindowRecord;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The saved local windows of passivated conversations. A saved window is stamped with the conversation's next turn
 * and chunk sequence numbers; once a turn (or an import) changes them it no longer describes the conversation, and
 * reading it gives nothing. So a window never needs deleting for correctness, only for space. It is also stamped with
 * the model (id and version) that computed its cache rows: rows of another model, or of another version of the same
 * model, must not be restored.
 */
final class WindowLog {

    private final StoreContext ctx;

    WindowLog(StoreContext ctx) {
        this.ctx = ctx;
    }

    void save(ConversationKey key, SavedWindow window) {
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            ConversationRecord meta = ConversationMeta.require(ctx.db, key);
            WindowRecord record = WindowRecord.newBuilder()
                    .setSchemaVersion(RecordCodec.SCHEMA_VERSION)
                    .setNextTurnSeq(meta.getNextTurnSeq())
                    .setNextChunkSeq(meta.getNextChunkSeq())
                    .setModelTag(window.modelTag())
                    .setModelVersion(window.modelVersion())
                    .addAllTokenIds(Arrays.stream(window.tokenIds()).boxed().toList())
                    .setUnfedToken(window.unfedToken() + 1)
                    .setCacheRows(ByteString.copyFrom(window.cacheRows()))
                    .build();
            batch.put(ColumnFamily.WINDOWS, StoreKeys.conversation(key), record.toByteArray());
            ctx.db.write(batch, ctx.settings.fsync());
        } finally {
            lock.unlock();
        }
    }

    /**
     * The saved window if it still describes the conversation and was computed by {@code modelTag}'s model (of any
     * version: the window carries its {@link SavedWindow#modelVersion}, which the device checks against the one it
     * serves when it puts the window back).
     */
    Optional<SavedWindow> find(ConversationKey key, String modelTag) {
        ReentrantLock lock = ctx.lock(key);
        lock.lock();
        try {
            ConversationRecord meta = ConversationMeta.find(ctx.db, key);
            byte[] prefix = StoreKeys.conversation(key);
            byte[] value = meta == null ? null : ctx.db.get(ColumnFamily.WINDOWS, prefix);
            if (value == null) {
                return Optional.empty();
            }
            WindowRecord r = RecordCodec.window(prefix, value);
            if (r.getNextTurnSeq() != meta.getNextTurnSeq() || r.getNextChunkSeq() != meta.getNextChunkSeq()
                    || !r.getModelTag().equals(modelTag)) {
                return Optional.empty();
            }
            int[] ids = r.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray();
            return Optional.of(new SavedWindow(r.getModelTag(), r.getModelVersion(), ids, r.getUnfedToken() - 1,
                    r.getCacheRows().toByteArray()));
        } finally {
            lock.unlock();
        }
    }

    void delete(ConversationKey key) {
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            batch.delete(ColumnFamily.WINDOWS, StoreKeys.conversation(key));
            ctx.db.write(batch, false);
        }
    }
}
