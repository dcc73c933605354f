package dev.memlong.memory;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueType;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/** Reads {@link MemorySettings} from {@value MemorySettings#PATH} of a Typesafe config, strictly. */
final class MemorySettingsReader {

    private static final String AUTO = "auto";
    private static final Set<String> KEYS = Set.of("memory-layer", "retrieval-layers", "chunk-size", "top-k",
            "local-window", "capacity-tokens", "eviction", "kv-dtype", "next-chunks");

    private MemorySettingsReader() {}

    static MemorySettings read(Config config, int numLayers, int maxPositions, ModelMemoryLayout model) {
        Config all = config.withFallback(ConfigFactory.defaultReference(MemorySettingsReader.class.getClassLoader()));
        Config c = section(all);
        for (String key : c.root().keySet()) {
            if (!KEYS.contains(key)) {
                throw new InvalidSettingException(MemorySettings.key(key), "unknown key; the keys of "
                        + MemorySettings.PATH + " are " + new TreeSet<>(KEYS));
            }
        }
        Integer chunk = autoOrInteger(c, "chunk-size");
        int chunkSize = chunk != null ? chunk : model.chunkSizeOr(MemorySettings.DEFAULT_CHUNK_SIZE);
        Integer layer = autoOrInteger(c, "memory-layer");
        int memoryLayer = layer != null ? layer : model.memoryLayerOr(MemorySettings.defaultMemoryLayer(numLayers));
        MemorySettings.requireMemoryLayer(memoryLayer, numLayers);
        List<Integer> retrievalLayers = isAuto(c, "retrieval-layers")
                ? (model.retrievalLayers() != null && layer == null ? model.retrievalLayers()
                        : MemorySettings.defaultRetrievalLayers(memoryLayer, numLayers))
                : attempt("retrieval-layers", () -> c.getIntList("retrieval-layers").stream().sorted().toList());
        Integer window = autoOrInteger(c, "local-window");
        int localWindow = window != null ? window : model.localWindow() != null && chunk == null ? model.localWindow()
                : MemorySettings.defaultLocalWindow(maxPositions, chunkSize);
        long capacity = attempt("capacity-tokens", () -> c.getLong("capacity-tokens"));
        EvictionPolicy eviction = choice(c, "eviction", EvictionPolicy.class, List.of("frequency", "fifo"));
        KvDType dtype = choice(c, "kv-dtype", KvDType.class, List.of("fp16", "bf16", "fp32"));
        Integer topK = autoOrInteger(c, "top-k");
        Integer next = autoOrInteger(c, "next-chunks");
        return new MemorySettings(memoryLayer, retrievalLayers, chunkSize, topK != null ? topK
                : model.topKOr(MemorySettings.DEFAULT_TOP_K), localWindow,
                capacity, eviction, dtype, next != null ? next : model.nextChunksOr(0)).requireFits(numLayers, maxPositions);
    }

    private static Config section(Config all) {
        try {
            return all.getConfig(MemorySettings.PATH);
        } catch (ConfigException e) {
            throw new InvalidSettingException(MemorySettings.PATH, e.getMessage(), e);
        }
    }

    private static boolean isAuto(Config c, String key) {
        return attempt(key, () -> c.getValue(key).valueType() == ConfigValueType.STRING
                && AUTO.equals(c.getString(key)));
    }

    private static Integer autoOrInteger(Config c, String key) {
        return isAuto(c, key) ? null : integer(c, key);
    }

    private static int integer(Config c, String key) {
        return attempt(key, () -> c.getInt(key));
    }

    private static <E extends Enum<E>> E choice(Config c, String key, Class<E> type, List<String> allowed) {
        String value = attempt(key, () -> c.getString(key));
        if (!allowed.contains(value)) {
            throw new InvalidSettingException(MemorySettings.key(key),
                    "must be one of " + String.join(", ", allowed) + "; got '" + value + "'");
        }
        return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
    }

    private interface Read<T> {
        T get();
    }

    private static <T> T attempt(String key, Read<T> read) {
        try {
            return read.get();
        } catch (ConfigException e) {
            throw new InvalidSettingException(MemorySettings.key(key), e.getMessage(), e);
        }
    }
}
