package dev.memlong.storage;

import com.google.protobuf.ByteString;
import dev.memlong.storage.proto.ChunkKvRecord;
import dev.memlong.storage.proto.ConversationRecord;
import dev.memlong.storage.proto.EvictionPolicyProto;
import dev.memlong.storage.proto.ExportChunk;
import dev.memlong.storage.proto.ExportRecord;
import dev.memlong.storage.proto.KvDTypeProto;
import dev.memlong.storage.proto.RoleProto;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An export stream whose records parse but would break the bank later (a chunk of no tokens, a negative counter
 * or seq, a counter about to overflow, a NaN embedding, an enum value this build does not know) fails the import
 * with BAD_EXPORT naming the field, and leaves nothing behind.
 */
class ImportValidationTest {

    @TempDir
    Path dir;
    private List<ExportRecord> records;
    private ConversationStore store;
    private final ConversationKey target = new ConversationKey("t", "imported");

    @BeforeEach
    void setUp() throws IOException {
        records = ImportLeftoversTest.exportedRecords(dir.resolve("src"));
        store = TestStores.open(dir.resolve("db"));
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static byte[] stream(List<ExportRecord> rs) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (ExportRecord r : rs) {
            r.writeDelimitedTo(out);
        }
        return out.toByteArray();
    }

    private int first(ExportRecord.RecordCase kind) {
        for (int i = 0; i < records.size(); i++) {
            if (records.get(i).getRecordCase() == kind) {
                return i;
            }
        }
        throw new AssertionError("no " + kind);
    }

    /** Imports the stream with record {@code index} changed; asserts BAD_EXPORT mentioning {@code field}. */
    private void assertRejected(int index, UnaryOperator<ExportRecord> change, String field) throws IOException {
        List<ExportRecord> changed = new ArrayList<>(records);
        changed.set(index, change.apply(changed.get(index)));
        byte[] bytes = stream(changed);
        StorageException e = assertThrows(StorageException.class,
                () -> store.importConversation(new ByteArrayInputStream(bytes), target));
        assertEquals(StorageException.Kind.BAD_EXPORT, e.kind(), e.getMessage());
        assertTrue(e.getMessage().contains(field), e.getMessage());
        assertEquals("t/imported", e.conversation());
        assertFalse(store.conversation(target).isPresent());
        byte[] prefix = StoreKeys.conversation(target);
        for (ColumnFamily cf : ColumnFamily.CONVERSATION_DATA) {
            int[] n = {0};
            store.rocks().scan(cf, prefix, StoreKeys.upperBound(prefix), null, (k, v) -> ++n[0] > 0);
            assertEquals(0, n[0], "left behind in " + cf.cfName());
        }
    }

    private void assertHeaderRejected(UnaryOperator<ConversationRecord.Builder> change, String field)
            throws IOException {
        assertRejected(0, r -> r.toBuilder().setHeader(r.getHeader().toBuilder()
                .setConversation(change.apply(r.getHeader().getConversation().toBuilder()))).build(), field);
    }

    private void assertChunkRejected(UnaryOperator<ExportChunk.Builder> change, String field) throws IOException {
        assertRejected(first(ExportRecord.RecordCase.CHUNK),
                r -> r.toBuilder().setChunk(change.apply(r.getChunk().toBuilder())).build(), field);
    }

    @Test
    void theUnchangedStreamImports() throws IOException {
        ConversationInfo info = store.importConversation(new ByteArrayInputStream(stream(records)), target);
        assertEquals(3, info.chunkCount());
        assertEquals(4, store.history(target).size());
    }

    @Test
    void badHeaders() throws IOException {
        assertHeaderRejected(c -> c.setCapacityTokens(0), "capacity_tokens");
        assertHeaderRejected(c -> c.setCapacityTokens(-5), "capacity_tokens");
        assertHeaderRejected(c -> c.setEvictionPolicy(EvictionPolicyProto.EVICTION_POLICY_UNSPECIFIED),
                "eviction_policy");
        assertHeaderRejected(c -> c.setEvictionPolicyValue(9), "eviction_policy");
        assertHeaderRejected(c -> c.setNextChunkSeq(Long.MAX_VALUE), "next_chunk_seq");
        assertHeaderRejected(c -> c.setNextTurnSeq(Long.MAX_VALUE - 1), "next_turn_seq");
        assertHeaderRejected(c -> c.setNextTurnSeq(-1), "next_turn_seq");
        assertHeaderRejected(c -> c.setLayout(c.getLayout().toBuilder().setDtype(KvDTypeProto.KV_DTYPE_UNSPECIFIED)),
                "layout");
        assertHeaderRejected(c -> c.setLayout(c.getLayout().toBuilder().setKvHeads(0)), "layout");
    }

    @Test
    void badTurns() throws IOException {
        int turn = first(ExportRecord.RecordCase.TURN);
        assertRejected(turn, r -> r.toBuilder().setTurn(r.getTurn().toBuilder().setSeq(-1)).build(), "seq -1");
        assertRejected(turn, r -> r.toBuilder().setTurn(r.getTurn().toBuilder().setSeq(Long.MAX_VALUE)).build(),
                "seq " + Long.MAX_VALUE);
        assertRejected(turn, r -> r.toBuilder().setTurn(r.getTurn().toBuilder()
                .setRole(RoleProto.ROLE_UNSPECIFIED)).build(), "role");
        assertRejected(turn, r -> r.toBuilder().setTurn(r.getTurn().toBuilder().setRoleValue(42)).build(), "role");
    }

    @Test
    void badChunks() throws IOException {
        assertChunkRejected(c -> c.setChunk(c.getChunk().toBuilder().setSeq(-3)), "seq -3");
        assertChunkRejected(c -> c.setChunk(c.getChunk().toBuilder().setRetrievalCount(-1)), "retrieval_count");
        // no tokens, with K/V that matches no tokens: only the token check can catch it
        assertChunkRejected(c -> c.setChunk(c.getChunk().toBuilder().clearTokenIds())
                .setKv(ChunkKvRecord.newBuilder().setSchemaVersion(1).setTokenCount(0)
                        .setKeys(ByteString.EMPTY).setValues(ByteString.EMPTY)), "token_ids");
        float[] nan = new float[TestStores.LAYOUT.embeddingDim()];
        nan[2] = Float.NaN;
        assertChunkRejected(c -> c.setEmbedding(Records.embedding(nan)), "embedding_le[2]");
        float[] inf = new float[TestStores.LAYOUT.embeddingDim()];
        inf[0] = Float.NEGATIVE_INFINITY;
        assertChunkRejected(c -> c.setEmbedding(Records.embedding(inf)), "embedding_le[0]");
    }
}
