package dev.memlong.examples.cli;

import dev.memlong.storage.ConversationStore;
import dev.memlong.storage.ModelVersion;
import dev.memlong.storage.TrainedRange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "versions", mixinStandardHelpOptions = true,
        description = "Lists the model versions the trainer published and the one the node serves (0: the base "
                + "model): {\"model_id\",\"serving\",\"versions\":[{\"version\",\"parent\",\"heldout_loss_before\","
                + "\"heldout_loss_after\",...}]}. Reads the store of a node that is not running.")
final class VersionsCommand implements Callable<Integer> {

    @Mixin
    StoreOptions store;

    @Mixin
    ModelIdOption model;

    @Override
    public Integer call() {
        String id = model.modelId();
        Map<String, Object> out = new LinkedHashMap<>();
        try (ConversationStore s = store.openExisting()) {
            out.put("model_id", id);
            out.put("serving", s.servingModelVersion(id));
            List<Map<String, Object>> versions = new ArrayList<>();
            for (ModelVersion v : s.modelVersions(id)) {
                versions.add(row(v));
            }
            out.put("versions", versions);
        }
        Json.print(out);
        return 0;
    }

    private static Map<String, Object> row(ModelVersion v) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("version", v.version());
        r.put("parent", v.parentVersion());
        r.put("created_at_ms", v.createdAtMs());
        r.put("mode", v.trainingMode());
        r.put("memory_layer", v.memoryLayer());
        r.put("heldout_loss_before", v.heldoutLossBefore());
        r.put("heldout_loss_after", v.heldoutLossAfter());
        r.put("tokens_trained", v.tokensTrained());
        r.put("heldout_tokens", v.heldoutTokens());
        r.put("steps", v.steps());
        r.put("conversations", v.dataRange().size());
        r.put("heldout_conversations", v.dataRange().stream().filter(TrainedRange::heldout).count());
        r.put("artifact", v.artifact());
        return r;
    }
}
