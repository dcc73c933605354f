package dev.memlong.storage;

import dev.memlong.storage.proto.ServingVersionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Model versions published by the trainer (column family {@code model_versions}) and the version each model serves
 * (column family {@code model_serving}; absent: version 0, the base model). Writes are fsynced: a published or
 * rolled-back version must survive a crash, since the devices load it at the next start.
 */
final class ModelVersionLog {

    private final StoreContext ctx;

    ModelVersionLog(StoreContext ctx) {
        this.ctx = ctx;
    }

    void put(ModelVersion v) {
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            putVersion(batch, v);
            ctx.db.write(batch, true);
        }
    }

    /** Stores {@code v} and makes it the serving version of its model, in one batch. */
    void publish(ModelVersion v) {
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            putVersion(batch, v);
            putServing(batch, v.modelId(), v.version());
            ctx.db.write(batch, true);
        }
    }

    private static void putVersion(StoreBatch batch, ModelVersion v) {
        batch.put(ColumnFamily.MODEL_VERSIONS, StoreKeys.modelVersion(v.modelId(), v.version()),
                Records.modelVersion(v).toByteArray());
    }

    private void putServing(StoreBatch batch, String modelId, long version) {
        batch.put(ColumnFamily.MODEL_SERVING, StoreKeys.model(modelId), ServingVersionRecord.newBuilder()
                .setSchemaVersion(RecordCodec.SCHEMA_VERSION).setModelId(modelId).setVersion(version)
                .setUpdatedAtMs(ctx.now()).build().toByteArray());
    }

    /** Versions of {@code modelId}, oldest first. */
    List<ModelVersion> list(String modelId) {
        byte[] prefix = StoreKeys.model(modelId);
        List<ModelVersion> out = new ArrayList<>();
        ctx.db.scan(ColumnFamily.MODEL_VERSIONS, prefix, StoreKeys.upperBound(prefix), null, (k, v) -> {
            out.add(Records.modelVersion(RecordCodec.modelVersion(k, v)));
            return true;
        });
        return out;
    }

    Optional<ModelVersion> find(String modelId, long version) {
        if (version < 1) {
            return Optional.empty();
        }
        byte[] key = StoreKeys.modelVersion(modelId, version);
        byte[] value = ctx.db.get(ColumnFamily.MODEL_VERSIONS, key);
        return value == null ? Optional.empty()
                : Optional.of(Records.modelVersion(RecordCodec.modelVersion(key, value)));
    }

    long serving(String modelId) {
        byte[] key = StoreKeys.model(modelId);
        byte[] value = ctx.db.get(ColumnFamily.MODEL_SERVING, key);
        return value == null ? 0 : RecordCodec.serving(key, value).getVersion();
    }

    /** Makes {@code version} (0: the base model, else a stored version) the serving one. */
    void setServing(String modelId, long version) {
        if (version != 0 && find(modelId, version).isEmpty()) {
            throw new StorageException(StorageException.Kind.NOT_FOUND, null, ColumnFamily.MODEL_VERSIONS.cfName(),
                    modelId + " v" + version, "no such model version", null);
        }
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            putServing(batch, modelId, version);
            ctx.db.write(batch, true);
        }
    }
}
