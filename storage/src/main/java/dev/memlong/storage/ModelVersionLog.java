package dev.memlong.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Model versions published by the trainer (column family {@code model_versions}). */
final class ModelVersionLog {

    private final StoreContext ctx;

    ModelVersionLog(StoreContext ctx) {
        this.ctx = ctx;
    }

    void put(ModelVersion v) {
        try (StoreBatch batch = new StoreBatch(ctx.db)) {
            batch.put(ColumnFamily.MODEL_VERSIONS, StoreKeys.modelVersion(v.modelId(), v.version()),
                    Records.modelVersion(v).toByteArray());
            ctx.db.write(batch, true);
        }
    }

    /** Versions of {@code modelId}, oldest first. */
    List<ModelVersion> list(String modelId) {
        byte[] m = modelId.getBytes(StandardCharsets.UTF_8);
        byte[] prefix = ByteBuffer.allocate(2 + m.length).putShort((short) m.length).put(m).array();
        List<ModelVersion> out = new ArrayList<>();
        ctx.db.scan(ColumnFamily.MODEL_VERSIONS, prefix, StoreKeys.upperBound(prefix), null, (k, v) -> {
            out.add(Records.modelVersion(RecordCodec.modelVersion(k, v)));
            return true;
        });
        return out;
    }
}
