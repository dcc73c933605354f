package dev.memlong.memory;

/** The contract suite on {@link InMemoryMemoryBank}. */
class InMemoryMemoryBankTest extends MemoryBankContractTest {

    @Override
    protected MemoryBank newBank(KvLayout layout, long capacityTokens, EvictionPolicy policy) {
        return new InMemoryMemoryBank(layout, capacityTokens, policy);
    }
}
