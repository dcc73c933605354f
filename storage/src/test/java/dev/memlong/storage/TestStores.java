package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvDType;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.NewChunk;
import dev.memlong.storage.bench.SyntheticChunks;

import java.nio.file.Path;

/** Small layouts and stores for tests. */
final class TestStores {

    static final KvLayout LAYOUT = new KvLayout(2, 8, KvDType.FP16, 16);
    static final int TOKENS = 8;
    static final SyntheticChunks CHUNKS = new SyntheticChunks(LAYOUT, TOKENS);
    static final String MODEL = "test-model";

    private TestStores() {}

    static StorageSettings settings(Path dir) {
        return StorageSettings.defaults().withPath(dir).withFsync(false).withKvCacheBytes(1 << 20)
                .withMinFreeDiskBytes(0);
    }

    static ConversationStore open(Path dir) {
        return ConversationStore.open(settings(dir));
    }

    static ConversationKey create(ConversationStore store, String id, long capacity, EvictionPolicy policy) {
        ConversationKey key = new ConversationKey("t", id);
        store.openConversation(key, new ConversationSpec(MODEL, LAYOUT, capacity, policy));
        return key;
    }

    static NewChunk chunk(String text) {
        return CHUNKS.chunk(text);
    }
}
