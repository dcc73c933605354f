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
        // v4 keeps partial_rotary_factor at the top, v5 may move it into rope_parameters
        for (JsonNode where : new JsonNode[] {c, params}) {
            if (where != null && where.hasNonNull("partial_rotary_factor")
                    && where.get("partial_rotary_factor").asDouble() != 1.0) {
                throw new CheckpointException("unsupported partial_rotary_factor "
                        + where.get("partial_rotary_factor").asText() + " in " + file + "; only 1.0 is supported");
            }
        }
        if (params != null && params.isObject() && !params.has("rope_type") && !params.has("rope_theta")
                && params.properties().stream().anyMatch(e -> e.getValue().isObject())) {
            throw new CheckpointException("unsupported rope_parameters per layer type in " + file
                    + "; expected one {rope_type, rope_theta, ...} object");
        }
        if (scaling == null || scaling.isNull()) {
            return new RopeScaling("default", theta, 1, 1, 1, maxPos, headDim);
        }
        String type = scaling.hasNonNull("rope_type") ? scaling.get("rope_type").asText() : scaling.path("type").asText("default");
        return switch (type) {
            case "default" -> new RopeScaling("default", theta, 1, 1, 1, maxPos, headDim);
            case "linear" -> new RopeScaling("linear", theta, factor(scaling, file), 1, 1, maxPos, headDim);
            case "llama3" -> llama3(scaling, file, theta, headDim);
            default -> throw new CheckpointException("unsupported rope_type \"" + type + "\" in " + file
                    + "; supported: default, linear, llama3");
        };
    }

    /** transformers reads all four llama3 keys unconditionally (a KeyError without them): so must we. */
    private static RopeScaling llama3(JsonNode scaling, Path file, double theta, int headDim) {
        for (String key : new String[] {"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
            if (!scaling.path(key).isNumber()) {
                throw new CheckpointException("rope_type \"llama3\" in " + file + " needs a numeric \"" + key + "\"");
            }
        }
        double low = scaling.get("low_freq_factor").asDouble();
        double high = scaling.get("high_freq_factor").asDouble();
        int original = scaling.get("original_max_position_embeddings").asInt();
        if (!(high > low) || low <= 0 || original <= 0) {
            throw new CheckpointException("invalid llama3 rope scaling in " + file + ": needs high_freq_factor > "
                    + "low_freq_factor > 0 and a positive original_max_position_embeddings");
        }
        return new RopeScaling("llama3", theta, factor(scaling, file), low, high, original, headDim);
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
