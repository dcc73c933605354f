package dev.memlong.storage;

import dev.memlong.memory.EvictionPolicy;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemoryBankContractTest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * The memory module's {@link MemoryBankContractTest} on {@link RocksMemoryBank}: every bank is a fresh
 * conversation of one store in a temporary directory, activated as the runtime would.
 */
class RocksMemoryBankContractTest extends MemoryBankContractTest {

    @TempDir
    Path dir;
    private ConversationStore store;
    private int banks;

    @Override
    protected MemoryBank newBank(KvLayout layout, long capacityTokens, EvictionPolicy policy) {
        if (store == null) {
            store = TestStores.open(dir);
        }
        ConversationKey key = new ConversationKey("contract", "bank-" + banks++);
        store.openConversation(key, new ConversationSpec("contract-model", layout, capacityTokens, policy));
        return store.activate(key);
    }

    /** Runs before the contract's own {@code @AfterEach}, which then closes already closed banks (idempotent). */
    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }
}
