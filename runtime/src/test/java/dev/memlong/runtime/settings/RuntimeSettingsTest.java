package dev.memlong.runtime.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dev.memlong.runtime.retriever.HybridRetriever;
import dev.memlong.runtime.retriever.Retriever;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class RuntimeSettingsTest {

    @Test
    void defaultsComeFromReferenceConf() {
        RuntimeSettings s = RuntimeSettings.from(ConfigFactory.empty());
        assertEquals(Path.of("fixtures/hf-tiny-llama"), s.modelDir());
        assertEquals(DataType.FLOAT32, s.modelOptions().computeType());
        assertEquals(DataType.FLOAT32, s.modelOptions().kvCacheType(), "auto: the compute type");
        assertEquals("bge-small-en-v1.5", s.retrieverKind());
        assertEquals(HybridRetriever.DEFAULT_LEXICAL_WEIGHT, s.lexicalWeight());
        try (Retriever r = s.openRetriever()) {
            assertTrue(r instanceof HybridRetriever h && h.lexicalWeight() == 0.5, r.getClass().getName());
            assertEquals(384 + HybridRetriever.LEXICAL_DIMENSION, r.dimension());
        }
        try (Retriever r = RuntimeSettings.from(ConfigFactory.parseString("memlong.retriever.lexical-weight = 0"))
                .openRetriever()) {
            assertEquals(384, r.dimension(), "0 is the sentence embedder alone");
        }
    }

    @Test
    void unknownKeysAndBadValuesNameTheKey() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> RuntimeSettings.from(ConfigFactory.parseString("memlong.model.dirr = x")));
        assertTrue(e.getMessage().contains("memlong.model.dirr"), e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> RuntimeSettings.from(ConfigFactory.parseString("memlong.model.dtype = int8")));
        assertTrue(e.getMessage().contains("memlong.model.dtype"), e.getMessage());
        // bfloat16 compute would abort the process in DJL: refused at start-up
        e = assertThrows(ConfigException.class,
                () -> RuntimeSettings.from(ConfigFactory.parseString("memlong.model.dtype = bfloat16")));
        assertTrue(e.getMessage().contains("memlong.model.dtype") && e.getMessage().contains("DJL"), e.getMessage());
        // int8 is no dtype; float16 under float32 compute is no supported cache
        for (String bad : new String[] {"int8", "float16"}) {
            e = assertThrows(ConfigException.class, () -> RuntimeSettings.from(
                    ConfigFactory.parseString("memlong.model.kv-cache-dtype = " + bad)));
            assertTrue(e.getMessage().contains("memlong.model.kv-cache-dtype"), e.getMessage());
        }
        e = assertThrows(ConfigException.class,
                () -> RuntimeSettings.from(ConfigFactory.parseString("memlong.retriever.kind = onnx")));
        assertTrue(e.getMessage().contains("memlong.retriever.model-dir"), e.getMessage());
        e = assertThrows(ConfigException.class,
                () -> RuntimeSettings.from(ConfigFactory.parseString("memlong.retriever.pooling = max")));
        assertTrue(e.getMessage().contains("memlong.retriever.pooling"), e.getMessage());
        for (String bad : new String[] {"1.5", "-0.1", "high"}) {
            e = assertThrows(ConfigException.class, () -> RuntimeSettings.from(
                    ConfigFactory.parseString("memlong.retriever.lexical-weight = " + bad)));
            assertTrue(e.getMessage().contains("memlong.retriever.lexical-weight"), e.getMessage());
        }
    }

    @Test
    void valuesAreRead() {
        RuntimeSettings s = RuntimeSettings.from(ConfigFactory.parseString(
                "memlong.model { dir = \"/m\", dtype = fp16 }\nmemlong.retriever { kind = onnx, model-dir = \"/r\", pooling = mean, lexical-weight = 0.25 }"));
        assertEquals(Path.of("/m"), s.modelDir());
        assertEquals(DataType.FLOAT16, s.modelOptions().computeType());
        assertEquals(DataType.FLOAT16, s.modelOptions().kvCacheType());
        assertEquals(DataType.BFLOAT16, RuntimeSettings.from(ConfigFactory.parseString(
                "memlong.model.kv-cache-dtype = bf16")).modelOptions().kvCacheType());
        assertEquals(Path.of("/r"), s.retrieverDir());
        assertEquals(0.25, s.lexicalWeight());
    }
}
