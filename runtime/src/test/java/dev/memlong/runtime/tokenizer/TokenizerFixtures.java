package dev.memlong.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the checked-in fixtures: system property {@code memlong.fixtures}, else a {@code fixtures} dir above. */
final class TokenizerFixtures {

    static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerFixtures() {}

    static Path dir() {
        String property = System.getProperty("memlong.fixtures");
        if (property != null && Files.isDirectory(Path.of(property))) {
            return Path.of(property);
        }
        for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("fixtures"))) {
                return dir.resolve("fixtures");
            }
        }
        throw new IllegalStateException("no fixtures directory: set -Dmemlong.fixtures");
    }

    static Path tinyLlama() {
        return dir().resolve("hf-tiny-llama");
    }

    static JsonNode readJson(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
