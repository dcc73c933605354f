package dev.memlong.runtime.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A shard index ({@code model.safetensors.index.json}, {@code pytorch_model.bin.index.json}): which shard file
 * holds each tensor. Shard names must stay inside the index's directory.
 *
 * @param file     the index file, for messages
 * @param weightMap tensor name to shard file name, in file order
 * @param shards   the shard files, each once, in first-mention order
 */
record ShardIndex(Path file, Map<String, String> weightMap, List<Path> shards) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static ShardIndex read(Path indexFile) {
        JsonNode node;
        try {
            node = JSON.readTree(indexFile.toFile()).get("weight_map");
        } catch (IOException e) {
            throw new CheckpointException("cannot read shard index " + indexFile + ": " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new CheckpointException("shard index " + indexFile + " has no \"weight_map\" object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        node.properties().forEach(f -> weightMap.put(f.getKey(), f.getValue().asText()));
        Set<String> names = new LinkedHashSet<>(weightMap.values());
        List<Path> shards = new ArrayList<>();
        for (String shard : names) {
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                throw new CheckpointException("shard index " + indexFile + " names a file outside its directory: " + shard);
            }
            shards.add(indexFile.resolveSibling(shard));
        }
        return new ShardIndex(indexFile, weightMap, List.copyOf(shards));
    }

    /** The error for a tensor the index places in a shard that does not hold it. */
    CheckpointException missing(String tensor) {
        return new CheckpointException("shard index " + file + " lists tensor " + tensor + " in "
                + weightMap.get(tensor) + ", but that shard does not contain it");
    }
}
