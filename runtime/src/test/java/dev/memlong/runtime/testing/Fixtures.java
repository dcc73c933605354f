package dev.memlong.runtime.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** The repository's checked-in fixtures (reference outputs computed by Hugging Face transformers). */
public final class Fixtures {

    private Fixtures() {}

    /** The fixtures root: the {@code memlong.fixtures} property set by the build, else found above the working dir. */
    public static Path root() {
        String prop = System.getProperty("memlong.fixtures");
        if (prop != null && Files.isDirectory(Paths.get(prop))) {
            return Paths.get(prop);
        }
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("fixtures/hf-tiny-llama"))) {
                return p.resolve("fixtures");
            }
        }
        throw new IllegalStateException("fixtures directory not found");
    }

    public static Path hfTinyLlama() {
        return root().resolve("hf-tiny-llama");
    }

    /** A LoRA adapter for {@link #hfTinyLlama} made and saved by PEFT, with PEFT's logits (fixtures/README.md). */
    public static Path hfTinyLlamaPeftAdapter() {
        return root().resolve("hf-tiny-llama-peft-adapter");
    }

    public static Path openLlamaStyleBin() {
        return root().resolve("openllama-style-bin");
    }

    public static JsonNode reference(Path modelDir) {
        try {
            return new ObjectMapper().readTree(Files.readString(modelDir.resolve("reference.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    public static float[][] matrix(JsonNode rows) {
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode r = rows.get(i);
            out[i] = new float[r.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = (float) r.get(j).asDouble();
            }
        }
        return out;
    }

    /** Largest absolute difference between two equally shaped matrices. */
    public static double maxAbsDiff(float[][] a, float[][] b) {
        if (a.length != b.length) {
            throw new AssertionError("row counts differ: " + a.length + " vs " + b.length);
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i].length != b[i].length) {
                throw new AssertionError("row " + i + " lengths differ: " + a[i].length + " vs " + b[i].length);
            }
            for (int j = 0; j < a[i].length; j++) {
                max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
            }
        }
        return max;
    }
}
