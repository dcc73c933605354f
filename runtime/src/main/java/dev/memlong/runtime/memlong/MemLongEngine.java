package dev.memlong.runtime.memlong;

import dev.memlong.memory.InMemoryMemoryBank;
import dev.memlong.memory.KvLayout;
import dev.memlong.memory.MemoryBank;
import dev.memlong.memory.MemorySettings;
import dev.memlong.runtime.bundle.ModelBundle;
import dev.memlong.runtime.generate.TokenStepper;
import dev.memlong.runtime.model.KvCachePool;
import dev.memlong.runtime.model.LlamaModel;
import dev.memlong.runtime.model.MemLongLayers;
import dev.memlong.runtime.retriever.Retriever;
import dev.memlong.runtime.tokenizer.TextTokenizer;

/**
 * A model, a retriever and MemLong settings wired together: makes caches and conversation sequences. Does not own
 * the bundle or the retriever (they are shared); owns nothing native itself.
 */
public final class MemLongEngine {

    private final ModelBundle bundle;
    private final Retriever retriever;
    private final MemorySettings settings;
    private final MemLongLayers layers;

    public MemLongEngine(ModelBundle bundle, Retriever retriever, MemorySettings settings) {
        LlamaModel model = bundle.model();
        settings.requireFits(model.config().numLayers(), model.config().maxPositionEmbeddings());
        this.bundle = bundle;
        this.retriever = retriever;
        this.settings = settings;
        this.layers = new MemLongLayers(settings.memoryLayer(),
                settings.retrievalLayers().stream().mapToInt(Integer::intValue).toArray());
    }

    /** The default settings for the bundle's model: the layout its config.json declares, else the formulas. */
    public static MemorySettings defaultSettings(ModelBundle bundle) {
        return MemorySettings.defaults(bundle.model().config().numLayers(), bundle.model().config().maxPositionEmbeddings(),
                dev.memlong.runtime.config.MemoryLayoutReader.read(bundle.directory()));
    }

    public MemorySettings settings() {
        return settings;
    }

    public ModelBundle bundle() {
        return bundle;
    }

    /** The retriever that embeds chunk texts and queries (shared, not owned). */
    public Retriever retriever() {
        return retriever;
    }

    public LlamaModel model() {
        return bundle.model();
    }

    public TextTokenizer tokenizer() {
        return bundle.tokenizer();
    }

    /** The K/V layout a memory bank for this model and retriever must have. */
    public KvLayout bankLayout() {
        return settings.layout(model().config().numKvHeads(), model().config().headDim(), retriever.dimension(),
                retriever.id());
    }

    /** A heap-only bank for a conversation that needs no persistence (CLI, tests). */
    public MemoryBank newInMemoryBank() {
        return new InMemoryMemoryBank(bankLayout(), settings.capacityTokens(), settings.eviction());
    }

    /** A cache of {@code slots} local windows. */
    public KvCachePool newCache(int slots) {
        return model().newCache(slots, settings.localWindow(), layers);
    }

    public MemLongSequence newSequence(KvCachePool cache, int slot, MemoryBank bank) {
        return new MemLongSequence(model(), cache, slot, bank, retriever, tokenizer(), settings);
    }

    /** Drives generation on a sequence: the prompt is a new input; generated tokens extend it. */
    public static TokenStepper stepper(MemLongSequence sequence) {
        return new TokenStepper() {
            @Override
            public float[] prefill(int[] prompt) {
                return sequence.feed(prompt, true, false, null);
            }

            @Override
            public float[] step(int token) {
                return sequence.feed(new int[] {token}, false, false, null);
            }

            @Override
            public void close() {
                // the sequence outlives one generation; its owner closes it
            }
        };
    }
}
