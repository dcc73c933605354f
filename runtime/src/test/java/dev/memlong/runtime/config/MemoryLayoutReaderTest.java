package dev.memlong.runtime.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.memlong.memory.ModelMemoryLayout;
import dev.memlong.runtime.checkpoint.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The "memlong" object of config.json: read when present, absent is fine, malformed is a typed error. */
class MemoryLayoutReaderTest {

    @TempDir
    Path dir;

    private ModelMemoryLayout read(String memlong) throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"]"
                + (memlong == null ? "" : ", \"memlong\": " + memlong) + "}");
        return MemoryLayoutReader.read(dir);
    }

    @Test
    void readsTheDeclaredLayout() throws Exception {
        assertEquals(new ModelMemoryLayout(2, List.of(3, 4, 5), 64, 8, 256), read(
                "{\"memory_layer\": 2, \"retrieval_layers\": [3, 4, 5], \"chunk_size\": 64, \"top_k\": 8, \"local_window\": 256}"));
        assertEquals(new ModelMemoryLayout(null, null, 64, null, null), read("{\"chunk_size\": 64}"));
        assertEquals(new ModelMemoryLayout(null, null, 32, 1, 128, 1),
                read("{\"chunk_size\": 32, \"top_k\": 1, \"local_window\": 128, \"next_chunks\": 1}"));
        assertEquals(ModelMemoryLayout.NONE, read(null));
    }

    @Test
    void malformedLayoutsAreTypedErrorsNamingTheKey() {
        for (String[] c : new String[][] {
            {"{\"chunk_size\": \"big\"}", "memlong.chunk_size"},
            {"{\"memory_layer\": -1}", "memlong.memory_layer"},
            {"{\"next_chunks\": -1}", "memlong.next_chunks"},
            {"{\"retrieval_layers\": []}", "memlong.retrieval_layers"},
            {"{\"retrieval_layers\": [1.5]}", "memlong.retrieval_layers"},
            {"{\"chunk\": 64}", "unknown key memlong.chunk"},
            {"[1]", "must be an object"}}) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> read(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("config.json"), e.getMessage());
        }
    }
}
