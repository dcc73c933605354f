package dev.memlong.storage;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import dev.memlong.storage.proto.ChunkEmbeddingRecord;
import dev.memlong.storage.proto.ChunkKvRecord;
import dev.memlong.storage.proto.ChunkRecord;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.EvictionPolicyProto;
import dev.memlong.storage.proto.KvDTypeProto;
import dev.memlong.storage.proto.KvLayoutRecord;
import dev.memlong.storage.proto.ModelVersionRecord;
import dev.memlong.storage.proto.RoleProto;
import dev.memlong.storage.proto.TrainedRangeRecord;
import dev.memlong.storage.proto.TurnRecord;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Conversions between the wire types of the schema and the module's records. Nothing outside sees wire types.
 * Decoding assumes a record {@link RecordCodec} (stored values) or {@link ImportWriter} (an export stream) has
 * checked ({@link RecordChecks}); on anything else it throws IllegalArgumentException rather than guess.
 */
final class Records {

    private Records() {}

    static KvLayoutRecord layout(KvLayout l) {
        KvDTypeProto dtype = switch (l.dtype()) {
            case FP16 -> KvDTypeProto.KV_DTYPE_FP16;
            case BF16 -> KvDTypeProto.KV_DTYPE_BF16;
            case FP32 -> KvDTypeProto.KV_DTYPE_FP32;
        };
        return KvLayoutRecord.newBuilder().setKvHeads(l.kvHeads()).setHeadDim(l.headDim()).setDtype(dtype)
                .setEmbeddingDim(l.embeddingDim()).setEmbedder(l.embedder()).build();
    }

    /** The layout of a record; throws IllegalArgumentException if it is not a valid layout. */
    static KvLayout layout(KvLayoutRecord r) {
        KvDType dtype = switch (r.getDtype()) {
            case KV_DTYPE_FP16 -> KvDType.FP16;
            case KV_DTYPE_BF16 -> KvDType.BF16;
            case KV_DTYPE_FP32 -> KvDType.FP32;
            default -> throw new IllegalArgumentException("unknown K/V dtype " + r.getDtype());
        };
        return new KvLayout(r.getKvHeads(), r.getHeadDim(), dtype, r.getEmbeddingDim(), r.getEmbedder());
    }

    static EvictionPolicyProto policy(EvictionPolicy p) {
        return p == EvictionPolicy.FIFO ? EvictionPolicyProto.EVICTION_POLICY_FIFO
                : EvictionPolicyProto.EVICTION_POLICY_FREQUENCY;
    }

    static EvictionPolicy policy(EvictionPolicyProto p) {
        return switch (p) {
            case EVICTION_POLICY_FREQUENCY -> EvictionPolicy.FREQUENCY;
            case EVICTION_POLICY_FIFO -> EvictionPolicy.FIFO;
            default -> throw new IllegalArgumentException("unknown eviction policy " + p);
        };
    }

    static RoleProto role(Role r) {
        return switch (r) {
            case SYSTEM -> RoleProto.ROLE_SYSTEM;
            case USER -> RoleProto.ROLE_USER;
            case ASSISTANT -> RoleProto.ROLE_ASSISTANT;
        };
    }

    static Role role(RoleProto r) {
        return switch (r) {
            case ROLE_SYSTEM -> Role.SYSTEM;
            case ROLE_USER -> Role.USER;
            case ROLE_ASSISTANT -> Role.ASSISTANT;
            default -> throw new IllegalArgumentException("unknown role " + r);
        };
    }

    static ConversationInfo info(ConversationRecord r) {
        return new ConversationInfo(new ConversationKey(r.getTenant(), r.getConversationId()), r.getModelId(),
                layout(r.getLayout()), r.getCapacityTokens(), policy(r.getEvictionPolicy()), r.getTurnCount(),
                r.getChunkCount(), r.getTokenCount(), r.getCreatedAtMs(), r.getUpdatedAtMs(),
                r.getTrainingOptOut(), r.getTrainedToSeq(), r.getIncarnation());
    }

    static Turn turn(TurnRecord r) {
        return new Turn(r.getSeq(), role(r.getRole()), r.getText(), r.getTokenCount(), r.getTimeMs());
    }

    static TurnRecord turn(long seq, TurnMessage m, long now) {
        return TurnRecord.newBuilder().setSchemaVersion(RecordCodec.SCHEMA_VERSION).setSeq(seq)
                .setRole(role(m.role())).setText(m.text()).setTokenCount(m.tokenCount()).setTimeMs(now).build();
    }

    static ChunkSummary summary(ChunkRecord r) {
        return new ChunkSummary(r.getSeq(), r.getTokenIdsCount(), r.getRetrievalCount(), r.getText(),
                r.getCreatedAtMs());
    }

    static ChunkRecord chunk(long seq, NewChunk c, long now) {
        ChunkRecord.Builder b = ChunkRecord.newBuilder().setSchemaVersion(RecordCodec.SCHEMA_VERSION).setSeq(seq)
                .setText(c.text()).setCreatedAtMs(now);
        for (int id : c.tokenIds()) {
            b.addTokenIds(id);
        }
        return b.build();
    }

    static ChunkKvRecord kv(NewChunk c) {
        return ChunkKvRecord.newBuilder().setSchemaVersion(RecordCodec.SCHEMA_VERSION)
                .setTokenCount(c.tokenIds().length)
                .setKeys(UnsafeByteOperations.unsafeWrap(c.keys()))
                .setValues(UnsafeByteOperations.unsafeWrap(c.values())).build();
    }

    static ChunkEmbeddingRecord embedding(float[] e) {
        ByteBuffer b = ByteBuffer.allocate(e.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(e);
        return ChunkEmbeddingRecord.newBuilder().setSchemaVersion(RecordCodec.SCHEMA_VERSION)
                .setEmbeddingLe(UnsafeByteOperations.unsafeWrap(b.array())).build();
    }

    static float[] floats(ByteString le) {
        float[] out = new float[le.size() / Float.BYTES];
        le.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    static int[] tokenIds(ChunkRecord r) {
        int[] ids = new int[r.getTokenIdsCount()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.getTokenIds(i);
        }
        return ids;
    }

    static ModelVersionRecord modelVersion(ModelVersion v) {
        ModelVersionRecord.Builder b = ModelVersionRecord.newBuilder().setSchemaVersion(RecordCodec.SCHEMA_VERSION)
                .setModelId(v.modelId()).setVersion(v.version()).setParentVersion(v.parentVersion())
                .setArtifact(v.artifact()).setCreatedAtMs(v.createdAtMs()).setMemoryLayer(v.memoryLayer())
                .setTrainingMode(v.trainingMode()).setHeldoutLossBefore(v.heldoutLossBefore())
                .setHeldoutLossAfter(v.heldoutLossAfter()).setTokensTrained(v.tokensTrained())
                .setHeldoutTokens(v.heldoutTokens()).setSteps(v.steps());
        for (TrainedRange r : v.dataRange()) {
            b.addDataRange(TrainedRangeRecord.newBuilder().setTenant(r.key().tenant())
                    .setConversationId(r.key().conversationId()).setFromSeq(r.fromSeq()).setToSeq(r.toSeq())
                    .setConversationCreatedAtMs(r.conversationCreatedAtMs())
                    .setConversationIncarnation(r.conversationIncarnation()).setHeldout(r.heldout()));
        }
        return b.build();
    }

    static ModelVersion modelVersion(ModelVersionRecord r) {
        List<TrainedRange> ranges = new ArrayList<>();
        for (TrainedRangeRecord t : r.getDataRangeList()) {
            ranges.add(new TrainedRange(new ConversationKey(t.getTenant(), t.getConversationId()), t.getFromSeq(),
                    t.getToSeq(), t.getConversationCreatedAtMs(), t.getConversationIncarnation(), t.getHeldout()));
        }
        return new ModelVersion(r.getModelId(), r.getVersion(), r.getParentVersion(), r.getArtifact(),
                r.getCreatedAtMs(), r.getMemoryLayer(), r.getTrainingMode(), ranges, r.getHeldoutLossBefore(),
                r.getHeldoutLossAfter(), r.getTokensTrained(), r.getHeldoutTokens(), r.getSteps());
    }
}
