package dev.memlong.examples.cli;

import dev.memlong.storage.ConversationStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = "Makes a model version (0: the base model) the one the node serves when it next starts: "
                + "{\"model_id\",\"serving\",\"was\"}. For a node that is not running (the store is locked while it "
                + "runs); a running node rolls back through MemLongRuntime.rollback(version), swapping at once.")
final class RollbackCommand implements Callable<Integer> {

    @Mixin
    StoreOptions store;

    @Mixin
    ModelIdOption model;

    @Option(names = "--version", required = true, paramLabel = "N", description = "the version to serve")
    long version;

    @Override
    public Integer call() {
        String id = model.modelId();
        Map<String, Object> out = new LinkedHashMap<>();
        try (ConversationStore s = store.openExisting()) {
            long was = s.servingModelVersion(id);
            if (version != 0 && s.modelVersion(id, version).isEmpty()) {
                throw new IllegalArgumentException("no version " + version + " of " + id + " (versions: "
                        + s.modelVersions(id).stream().map(v -> v.version()).toList() + "; 0 is the base model)");
            }
            s.setServingModelVersion(id, version);
            out.put("model_id", id);
            out.put("serving", version);
            out.put("was", was);
        }
        Json.print(out);
        return 0;
    }
}
