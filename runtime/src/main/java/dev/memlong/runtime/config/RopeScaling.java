package dev.memlong.runtime.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.memlong.runtime.checkpoint.CheckpointException;
import java.nio.file.Path;

/**
 * Rotary position embedding parameters and the inverse frequencies they imply, as transformers computes them
 * ({@code ROPE_INIT_FUNCTIONS}): default, linear and Llama 3 ({@code rope_type: "llama3"}) scaling.
 *
 * @param type                 "default", "linear" or "llama3"
 * @param theta                base
 * @param factor               scaling factor (linear, llama3)
 * @param lowFreqFactor        llama3
 * @param highFreqFactor       llama3
 * @param originalMaxPositions llama3's original_max_position_embeddings
 * @param headDim              rotary dimension (the full head)
 */
public record RopeScaling(String type, double theta, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositions, int headDim) {

    static RopeScaling parse(JsonNode c, Path file, int headDim, int maxPos) {
        // v5: everything under rope_parameters; v4: rope_theta at the top and an optional rope_scaling object.
        JsonNode params = c.get("rope_parameters");
        JsonNode scaling = params != null && params.isObject() ? params : c.get("rope_scaling");
        double theta = params != null && params.hasNonNull("rope_theta")
                ? params.get("rope_theta").asDouble() : c.path("rope_theta").asDouble(10000.0);
        if (c.hasNonNull("partial_rotary_factor") && c.get("partial_rotary_factor").asDouble() != 1.0) {
            throw new CheckpointException("unsupported partial_rotary_factor in " + file);
        }
        if (scaling == null || scaling.isNull()) {
            return new RopeScaling("default", theta, 1, 1, 1, maxPos, headDim);
        }
        String type = scaling.hasNonNull("rope_type") ? scaling.get("rope_type").asText() : scaling.path("type").asText("default");
        return switch (type) {
            case "default" -> new RopeScaling("default", theta, 1, 1, 1, maxPos, headDim);
            case "linear" -> new RopeScaling("linear", theta, factor(scaling, file), 1, 1, maxPos, headDim);
            case "llama3" -> new RopeScaling("llama3", theta, factor(scaling, file),
                    scaling.path("low_freq_factor").asDouble(1.0), scaling.path("high_freq_factor").asDouble(4.0),
                    scaling.path("original_max_position_embeddings").asInt(8192), headDim);
            default -> throw new CheckpointException("unsupported rope_type \"" + type + "\" in " + file
                    + "; supported: default, linear, llama3");
        };
    }

    private static double factor(JsonNode scaling, Path file) {
        double f = scaling.path("factor").asDouble(0);
        if (f <= 0) {
            throw new CheckpointException("rope scaling in " + file + " needs a positive \"factor\"");
        }
        return f;
    }

    /** Inverse frequencies, {@code headDim / 2} of them, computed in double then rounded as torch does in fp32. */
    public float[] inverseFrequencies() {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            // transformers: 1 / base ** (arange(0, dim, 2, dtype=int64).float() / dim), in float32
            float exponent = (float) (2 * i) / (float) headDim;
            inv[i] = (float) (1.0 / Math.pow(theta, exponent));
        }
        switch (type) {
            case "linear" -> {
                for (int i = 0; i < half; i++) {
                    inv[i] = (float) (inv[i] / factor);
                }
            }
            case "llama3" -> {
                double lowWavelen = originalMaxPositions / lowFreqFactor;
                double highWavelen = originalMaxPositions / highFreqFactor;
                for (int i = 0; i < half; i++) {
                    double wavelen = 2 * Math.PI / inv[i];
                    double f = inv[i];
                    if (wavelen > lowWavelen) {
                        f = inv[i] / factor;
                    } else if (wavelen >= highWavelen) {
                        double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        f = (1 - smooth) * inv[i] / factor + smooth * inv[i];
                    }
                    inv[i] = (float) f;
                }
            }
            default -> { }
        }
        return inv;
    }
}
