package dev.memlong.storage;

import dev.memlong.storage.proto.ConversationRecord;
import java.security.SecureRandom;

/** Reads, creates and checks conversation metadata (column family {@code conversations}). */
final class ConversationMeta {

    private ConversationMeta() {}

    /** The record of {@code key}, or null if the conversation does not exist. */
    static ConversationRecord find(RocksStore db, ConversationKey key) {
        byte[] k = StoreKeys.conversation(key);
        byte[] v = db.get(ColumnFamily.CONVERSATIONS, k);
        if (v == null) {
            return null;
        }
        return RecordCodec.conversation(k, v);
    }

    /** The record of {@code key}; NOT_FOUND if the conversation does not exist. */
    static ConversationRecord require(RocksStore db, ConversationKey key) {
        ConversationRecord r = find(db, key);
        if (r == null) {
            throw new StorageException(StorageException.Kind.NOT_FOUND, key.toString(),
                    ColumnFamily.CONVERSATIONS.cfName(), key.toString(), "no such conversation", null);
        }
        return r;
    }

    /** A new conversation's record: capacity and eviction policy as the spec says, stored for good. */
    static ConversationRecord create(ConversationKey key, ConversationSpec spec, long now) {
        return ConversationRecord.newBuilder().setSchemaVersion(RecordCodec.SCHEMA_VERSION)
                .setTenant(key.tenant()).setConversationId(key.conversationId()).setModelId(spec.modelId())
                .setLayout(Records.layout(spec.layout())).setCapacityTokens(spec.capacityTokens())
                .setEvictionPolicy(Records.policy(spec.eviction()))
                .setCreatedAtMs(now).setUpdatedAtMs(now).setIncarnation(newIncarnation()).build();
    }

    private static final SecureRandom INCARNATIONS = new SecureRandom();

    /**
     * A new incarnation id: random, so no clock (same millisecond, a step back) and no counter lost with a forgotten
     * record can repeat one; 64 bits make a collision between two incarnations of one key negligible. Never 0,
     * which means "not recorded".
     */
    static long newIncarnation() {
        long id;
        do {
            id = INCARNATIONS.nextLong();
        } while (id == 0);
        return id;
    }

    /** Fails with LAYOUT_MISMATCH or MODEL_MISMATCH when {@code spec} does not fit the stored conversation. */
    static void check(ConversationKey key, ConversationRecord stored, ConversationSpec spec) {
        byte[] k = StoreKeys.conversation(key);
        if (!Records.layout(stored.getLayout()).accepts(spec.layout())) {
            throw RecordCodec.error(StorageException.Kind.LAYOUT_MISMATCH, ColumnFamily.CONVERSATIONS, k,
                    "stored for memory-layer layout " + Records.layout(stored.getLayout()) + ", opened with "
                            + spec.layout(), null);
        }
        if (!stored.getModelId().equals(spec.modelId())) {
            throw RecordCodec.error(StorageException.Kind.MODEL_MISMATCH, ColumnFamily.CONVERSATIONS, k,
                    "stored for model " + stored.getModelId() + ", opened with " + spec.modelId(), null);
        }
    }

    /**
     * Deletes everything stored under the conversation's key except its record: what a crashed or failed import
     * left behind (invisible while there is no record, it would come back as the data of a new conversation with
     * the same key).
     */
    static void deleteData(StoreBatch batch, ConversationKey key) {
        byte[] prefix = StoreKeys.conversation(key);
        for (ColumnFamily cf : ColumnFamily.CONVERSATION_DATA) {
            if (cf != ColumnFamily.CONVERSATIONS) {
                batch.deletePrefix(cf, prefix);
            }
        }
    }

    static void put(StoreBatch batch, ConversationKey key, ConversationRecord record) {
        batch.put(ColumnFamily.CONVERSATIONS, StoreKeys.conversation(key), record.toByteArray());
    }
}
