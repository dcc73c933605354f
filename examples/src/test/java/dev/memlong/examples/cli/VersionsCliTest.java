package dev.memlong.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.storage.ConversationKey;
import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.ModelVersion;
import dev.memlong.storage.StorageSettings;
import dev.memlong.storage.TrainedRange;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** memlong versions / rollback against a store written through the storage API. */
class VersionsCliTest {

    @TempDir
    Path data;

    private void publish() {
        try (ConversationStore s = ConversationStore.open(StorageSettings.defaults().withPath(data.resolve("rocksdb"))
                .withFsync(false).withMinFreeDiskBytes(0))) {
            TrainedRange a = new TrainedRange(new ConversationKey("t", "a"), 0, 6, 1, false);
            TrainedRange b = new TrainedRange(new ConversationKey("t", "b"), 0, 4, 1, true);
            s.publishModelVersion(new ModelVersion("tiny", 1, 0, "v1/upper.safetensors", 100, 2, "lora",
                    List.of(a, b), 6.5, 6.25, 1000, 120, 4));
            s.publishModelVersion(new ModelVersion("tiny", 2, 1, "v2/upper.safetensors", 200, 2, "lora",
                    List.of(a), 6.25, 6.0, 500, 60, 2));
        }
    }

    @Test
    void listsVersionsAndRollsBack() throws Exception {
        publish();
        JsonNode listed = CliTest.run("versions", "--data", data.toString(), "--model-id", "tiny").json();
        assertEquals("tiny", listed.get("model_id").asText());
        assertEquals(2, listed.get("serving").asLong());
        assertEquals(2, listed.get("versions").size());
        JsonNode v1 = listed.get("versions").get(0);
        assertEquals(1, v1.get("version").asLong());
        assertEquals(0, v1.get("parent").asLong());
        assertEquals(6.5, v1.get("heldout_loss_before").asDouble());
        assertEquals(6.25, v1.get("heldout_loss_after").asDouble());
        assertEquals(2, v1.get("conversations").asInt());
        assertEquals(1, v1.get("heldout_conversations").asInt());

        JsonNode rolled = CliTest.run("rollback", "--data", data.toString(), "--model", "/models/tiny",
                "--version", "1").json();
        assertEquals(1, rolled.get("serving").asLong());
        assertEquals(2, rolled.get("was").asLong());
        assertEquals(1, CliTest.run("versions", "--data", data.toString(), "--model-id", "tiny").json()
                .get("serving").asLong());
        assertEquals(0, CliTest.run("rollback", "--data", data.toString(), "--model-id", "tiny", "--version", "0")
                .json().get("serving").asLong());

        CliTest.Outcome unknown = CliTest.run("rollback", "--data", data.toString(), "--model-id", "tiny",
                "--version", "9");
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.stderr().startsWith("error: no version 9 of tiny (versions: [1, 2]"), unknown.stderr());
        assertEquals(0, CliTest.run("versions", "--data", data.toString(), "--model-id", "tiny").json()
                .get("serving").asLong(), "unchanged");
        CliTest.Outcome noModel = CliTest.run("versions", "--data", data.toString());
        assertEquals(2, noModel.exitCode(), noModel.stderr());
    }
}
